//! End-to-end tests: the real `smsgate` binary on a loopback port, a
//! temporary SQLite file, and HTTP from the outside.

mod action;
mod balances;
mod cli;
mod cluster;
mod crash;
mod dialects;
mod errors;
mod events;
mod hardening;
mod keys;
mod lifecycle;
mod migrate;
mod ops;
mod optout;
mod receiver;
mod reseller;
mod session;
mod smpp;
#[path = "../smsc/harness.rs"]
mod smsc;
mod smsmanager;
mod support;
mod thesmspoint;
mod ultimate;
mod webhooks;
