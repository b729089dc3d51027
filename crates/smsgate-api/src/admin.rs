//! The admin API, `/admin/v1`: accounts, keys, credits and prices.
//! Authenticated with the admin token (`Authorization: Bearer <token>`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use smsgate_core::{AccountId, Amount, KeyId, Price, credits::STANDARD_ROUTE};
use smsgate_engine::AccountRequest;
use smsgate_engine::records::{Account, ApiKeyInfo};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{Admin, JsonBody, SMALL};
use crate::problem::Problem;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/admin/v1/accounts",
            post(create_account).get(list_accounts),
        )
        .route(
            "/admin/v1/accounts/{id}",
            get(get_account).patch(update_account),
        )
        .route(
            "/admin/v1/accounts/{id}/keys",
            post(create_key).get(list_keys),
        )
        .route("/admin/v1/accounts/{id}/credits", post(adjust_credits))
        .route("/admin/v1/accounts/{id}/ledger", get(ledger))
        .route(
            "/admin/v1/accounts/{id}/statements/{month}",
            get(crate::statements::account_statement),
        )
        .route("/admin/v1/usage", get(crate::usage::usage))
        .route("/admin/v1/keys/{id}", delete(revoke_key).patch(update_key))
        .route("/admin/v1/keys/{id}/revoke", post(revoke_key))
        .route(
            "/admin/v1/prices",
            get(list_prices).put(set_price).delete(delete_price),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: i64,
    pub name: String,
    #[schema(example = "active")]
    pub status: String,
    #[schema(value_type = String, example = "0.0350")]
    pub balance: Amount,
    pub default_country: Option<String>,
    pub timezone: String,
    pub max_parts: u32,
    pub has_password: bool,
    pub require_approved_sender: bool,
    pub default_sender: Option<String>,
    pub enforce_campaign_check: bool,
    pub postback_url: Option<String>,
    pub split_balances: bool,
    /// Its own request limit (`{burst, per_minute}`); null: the server's
    /// default (`[engine.limits] per_account`).
    #[schema(value_type = Option<Object>)]
    pub rate_limit: Option<smsgate_core::limits::Rate>,
    /// The destination countries it may send to (ISO codes); null: every
    /// country.
    pub allowed_countries: Option<Vec<String>>,
    /// The restricted number types it may still send to (premium-rate,
    /// shared-cost, personal, satellite, international-network).
    pub allowed_number_types: Vec<String>,
    /// Its own velocity limits (`{per_prefix: {per_minute, block_secs},
    /// per_account: {…}}`); null: the server's (`[engine.velocity]`).
    #[schema(value_type = Option<Object>)]
    pub velocity: Option<smsgate_core::limits::VelocityLimits>,
    /// How strictly its recipients are checked (`valid`, `possible`);
    /// null: the server's (`[engine] number_check`).
    #[schema(value_type = Option<String>)]
    pub number_check: Option<smsgate_core::NumberCheck>,
    /// Its rate plan's id; null: the default plan.
    pub plan: Option<i64>,
    /// The account that owns it (a reseller); null: the operator's own.
    pub parent: Option<i64>,
    /// Days its message texts (and click targets) are kept; null: the
    /// server's rule (`[engine.retention] texts_days`).
    pub keep_texts_days: Option<u32>,
    /// Days its numbers are kept unmasked; null: the server's rule.
    pub keep_numbers_days: Option<u32>,
    pub created_at: String,
    /// Only when the account is created: its first API key. Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            id: a.id.0,
            name: a.name.clone(),
            status: a.status.as_str().into(),
            balance: a.balance,
            default_country: a.default_country.clone(),
            timezone: a.timezone.clone(),
            max_parts: a.max_parts,
            has_password: a.password_hash.is_some(),
            require_approved_sender: a.require_approved_sender,
            default_sender: a.default_sender.clone(),
            enforce_campaign_check: a.enforce_campaign_check,
            postback_url: a.postback_url.clone(),
            split_balances: a.split_balances,
            rate_limit: a.rate_limit,
            allowed_countries: a
                .reach
                .countries()
                .map(|c| c.iter().map(smsgate_core::Country::code).collect()),
            allowed_number_types: a
                .reach
                .allowed_types()
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            velocity: a.velocity,
            number_check: a.number_check,
            plan: a.plan.map(|p| p.0),
            parent: a.parent.map(|p| p.0),
            keep_texts_days: a.retention.texts_days,
            keep_numbers_days: a.retention.numbers_days,
            created_at: a.created_at.to_rfc3339(),
            api_key: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// Unique name; also the login of the `session` dialect.
    pub name: String,
    /// Opening balance (default 0).
    #[schema(value_type = Option<String>, example = "12.0000")]
    pub credits: Option<Amount>,
    /// Password for login-based dialects (at least 8 characters).
    pub password: Option<String>,
    /// ISO 3166-1 alpha-2 country for national numbers, e.g. `NL`.
    pub default_country: Option<String>,
    /// Most parts per message (default 10).
    pub max_parts: Option<u32>,
    /// The account that owns it (a reseller's customer): it pays its
    /// parent's prices until given a plan.
    pub parent: Option<i64>,
}

/// Create an account and its first API key.
#[utoipa::path(post, path = "/admin/v1/accounts", tag = "admin", request_body = CreateAccount,
    responses((status = 201, body = AccountView), (status = 409, description = "Name taken", body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn create_account(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: JsonBody<CreateAccount, SMALL>,
) -> Result<(StatusCode, Json<AccountView>), Problem> {
    let b = body.value;
    let (account, key) = state
        .engine
        .create_account(
            &by,
            AccountRequest {
                name: b.name,
                credits: b.credits,
                password: b.password,
                default_country: b.default_country,
                max_parts: b.max_parts,
                parent: b.parent.map(AccountId),
            },
        )
        .await?;
    let mut view = AccountView::from(&account);
    view.api_key = Some(key.secret);
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub data: Vec<AccountView>,
}

#[utoipa::path(get, path = "/admin/v1/accounts", tag = "admin",
    responses((status = 200, body = AccountList)), security(("admin_token" = [])))]
pub async fn list_accounts(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<AccountList>, Problem> {
    let accounts = state.engine.admin().accounts().await?;
    Ok(Json(AccountList {
        data: accounts.iter().map(AccountView::from).collect(),
    }))
}

pub(crate) fn account_id(id: &str) -> Result<AccountId, Problem> {
    id.parse()
        .map(AccountId)
        .map_err(|_| Problem::not_found(format!("no account with id {id:?}")))
}

async fn load(state: &AppState, id: AccountId) -> Result<Account, Problem> {
    state.engine.admin().account(id).await.map_err(|e| match e {
        smsgate_engine::EngineError::NotFound(_) => {
            Problem::not_found(format!("no account with id {id}"))
        }
        other => other.into(),
    })
}

#[utoipa::path(get, path = "/admin/v1/accounts/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = AccountView), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn get_account(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, Problem> {
    Ok(Json(AccountView::from(
        &load(&state, account_id(&id)?).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// `active` or `disabled`. A disabled account's keys are refused.
    pub status: Option<String>,
    /// ISO country code, or null to clear.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub default_country: Option<Option<String>>,
    /// IANA time zone name used by dialects that take local times.
    pub timezone: Option<String>,
    pub max_parts: Option<u32>,
    /// New password (at least 8 characters), or null to remove it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub password: Option<Option<String>>,
    /// Refuse sends from sender IDs not registered and approved.
    pub require_approved_sender: Option<bool>,
    /// The sender of dialect sends that name none, or null to clear.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub default_sender: Option<Option<String>>,
    /// Sends must name a campaign (`campaign_ref`, the action dialect's
    /// `campaign-ref`) their recipients are subscribed to.
    pub enforce_campaign_check: Option<bool>,
    /// Where the action dialect's delivery postbacks go, or null.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub postback_url: Option<Option<String>>,
    /// Keep a balance per category (transactional, promotional, otp):
    /// sends are charged to their category's, topped up with
    /// `POST /admin/v1/accounts/{id}/credits` `{"category": …}`.
    pub split_balances: Option<bool>,
    /// The account's own request limit, `{"burst": n, "per_minute": m}`
    /// (each at least 1), or null for the server's default.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub rate_limit: Option<Option<smsgate_core::limits::Rate>>,
    /// The destination countries it may send to (ISO 3166-1 alpha-2
    /// codes), or null for every country. A list also refuses numbers of
    /// no country (+870, +882, …).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Vec<String>>)]
    pub allowed_countries: Option<Option<Vec<String>>>,
    /// The restricted number types it may still send to, refused
    /// otherwise: `premium-rate`, `shared-cost`, `personal`, `satellite`,
    /// `international-network`. `[]` allows none of them.
    pub allowed_number_types: Option<Vec<String>>,
    /// Its own velocity limits, `{"per_prefix": {"per_minute": n,
    /// "block_secs": s}, "per_account": {…}}` (`per_minute` 0: off), or
    /// null for the server's.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub velocity: Option<Option<smsgate_core::limits::VelocityLimits>>,
    /// `"valid"` (libphonenumber's ranges) or `"possible"` (a plausible
    /// length for the country, for ranges newer than the metadata), or
    /// null for the server's.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub number_check: Option<Option<smsgate_core::NumberCheck>>,
    /// Its rate plan's id (`GET /admin/v1/plans`), or null for the
    /// default plan. In force for its next send.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub plan: Option<Option<smsgate_core::PlanId>>,
    /// Days its message texts (and click targets) are kept, 1 to 36500,
    /// or null for the server's rule. Messages still waiting to be sent
    /// keep theirs.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub keep_texts_days: Option<Option<u32>>,
    /// Days its numbers (recipients, inbound senders) are kept before they
    /// are masked (`+316*****678`), 1 to 36500, or null for the server's.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub keep_numbers_days: Option<Option<u32>>,
}

/// Distinguishes a missing field (leave as is) from `null` (clear it).
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[utoipa::path(patch, path = "/admin/v1/accounts/{id}", tag = "admin", request_body = UpdateAccount,
    params(("id" = i64, Path)), responses((status = 200, body = AccountView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn update_account(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<UpdateAccount, SMALL>,
) -> Result<Json<AccountView>, Problem> {
    let id = account_id(&id)?;
    let b = body.value;
    let changes = smsgate_engine::AccountChanges {
        status: b.status,
        default_country: b.default_country,
        timezone: b.timezone,
        max_parts: b.max_parts,
        password: b.password,
        require_approved_sender: b.require_approved_sender,
        default_sender: b.default_sender,
        enforce_campaign_check: b.enforce_campaign_check,
        postback_url: b.postback_url,
        split_balances: b.split_balances,
        rate_limit: b.rate_limit,
        allowed_countries: b.allowed_countries,
        allowed_number_types: b.allowed_number_types,
        plan: b.plan,
        velocity: b.velocity,
        number_check: b.number_check,
        keep_texts_days: b.keep_texts_days,
        keep_numbers_days: b.keep_numbers_days,
    };
    let account = state.engine.change_account(&by, id, changes).await?;
    Ok(Json(AccountView::from(&account)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: i64,
    pub account_id: i64,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub label: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The client addresses or networks it may be used from; null:
    /// anywhere.
    pub allowed_ips: Option<Vec<String>>,
    /// Only when the key is created. Shown once; only its hash is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

impl From<&ApiKeyInfo> for KeyView {
    fn from(k: &ApiKeyInfo) -> Self {
        KeyView {
            id: k.id.0,
            account_id: k.account_id.0,
            prefix: k.prefix.clone(),
            label: k.label.clone(),
            created_at: k.created_at.to_rfc3339(),
            revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
            allowed_ips: k
                .allowed_ips
                .as_ref()
                .map(|n| n.iter().map(ToString::to_string).collect()),
            api_key: None,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub label: Option<String>,
    /// Limit the key to these client addresses or networks
    /// (`192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`).
    pub allowed_ips: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKey {
    /// Addresses or networks, or null for anywhere.
    pub allowed_ips: Option<Vec<String>>,
}

/// Create another API key for an account.
#[utoipa::path(post, path = "/admin/v1/accounts/{id}/keys", tag = "admin", request_body = CreateKey,
    params(("id" = i64, Path)), responses((status = 201, body = KeyView), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<KeyView>), Problem> {
    let id = account_id(&id)?;
    let req: CreateKey = if body.iter().all(u8::is_ascii_whitespace) {
        CreateKey::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    let issued = state
        .engine
        .create_limited_key(&by, id, req.label, req.allowed_ips)
        .await?;
    let keys = state.engine.admin().keys(id).await?;
    let info = keys
        .iter()
        .find(|k| k.id == issued.id)
        .ok_or_else(|| Problem::not_found("the key vanished"))?;
    let mut view = KeyView::from(info);
    view.api_key = Some(issued.secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Limit a key to client addresses or networks, or lift the limit.
#[utoipa::path(patch, path = "/admin/v1/keys/{id}", tag = "admin", request_body = UpdateKey,
    params(("id" = i64, Path)), responses((status = 200, body = KeyView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn update_key(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<UpdateKey, SMALL>,
) -> Result<Json<KeyView>, Problem> {
    let id: i64 = id
        .parse()
        .map_err(|_| Problem::not_found(format!("no API key with id {id:?}")))?;
    let info = state
        .engine
        .set_key_networks(&by, smsgate_core::KeyId(id), body.value.allowed_ips)
        .await?;
    Ok(Json(KeyView::from(&info)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub data: Vec<KeyView>,
}

#[utoipa::path(get, path = "/admin/v1/accounts/{id}/keys", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = KeyList), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn list_keys(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<KeyList>, Problem> {
    let id = account_id(&id)?;
    load(&state, id).await?;
    let keys = state.engine.admin().keys(id).await?;
    Ok(Json(KeyList {
        data: keys.iter().map(KeyView::from).collect(),
    }))
}

/// Revoke a key: it is refused from then on.
#[utoipa::path(delete, path = "/admin/v1/keys/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = KeyView), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
) -> Result<Json<KeyView>, Problem> {
    let id = id
        .parse()
        .map(KeyId)
        .map_err(|_| Problem::not_found(format!("no API key with id {id:?}")))?;
    let info = state.engine.revoke_key(&by, id).await?;
    Ok(Json(KeyView::from(&info)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustCredits {
    /// Credits to add; negative to remove (never below zero).
    #[schema(value_type = String, example = "0.0350")]
    pub amount: Amount,
    /// Why, kept in the ledger.
    pub note: Option<String>,
    /// `transactional`, `promotional` or `otp`: that category's balance
    /// (accounts with `split_balances`) instead of the account's.
    pub category: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceAfter {
    pub account_id: i64,
    #[schema(value_type = String, example = "0.0350")]
    pub balance: Amount,
}

/// Add or remove credits; a ledger entry records it.
#[utoipa::path(post, path = "/admin/v1/accounts/{id}/credits", tag = "admin", request_body = AdjustCredits,
    params(("id" = i64, Path)),
    responses((status = 200, body = BalanceAfter), (status = 402, description = "Would go below zero", body = Problem), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn adjust_credits(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<AdjustCredits, SMALL>,
) -> Result<Json<BalanceAfter>, Problem> {
    let id = account_id(&id)?;
    let category = match body.value.category.as_deref() {
        None => None,
        Some(c) => Some(
            smsgate_core::Category::parse(&c.to_ascii_lowercase()).ok_or_else(|| {
                Problem::invalid_field("category", "must be transactional, promotional or otp")
            })?,
        ),
    };
    let balance = state
        .engine
        .adjust_credits(&by, id, body.value.amount, category, body.value.note)
        .await?;
    Ok(Json(BalanceAfter {
        account_id: id.0,
        balance,
    }))
}

/// An account's ledger entries, newest first, with cursor pages.
#[utoipa::path(get, path = "/admin/v1/accounts/{id}/ledger", tag = "admin",
    params(("id" = i64, Path), crate::ledger::LedgerQuery),
    responses((status = 200, body = crate::ledger::LedgerPage), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn ledger(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    query: crate::ledger::Query,
) -> Result<Json<crate::ledger::LedgerPage>, Problem> {
    let id = account_id(&id)?;
    load(&state, id).await?;
    let admin = state.engine.admin();
    crate::ledger::page(query, |filter| admin.ledger(id, filter)).await
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceView {
    /// Default `standard` (the native API's route class).
    #[serde(default = "standard")]
    pub route_class: String,
    /// E.164 digits without `+`; `""` matches every destination.
    pub prefix: String,
    /// Credits per segment.
    #[schema(value_type = String, example = "0.0350")]
    pub price: Amount,
}

fn standard() -> String {
    STANDARD_ROUTE.into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceList {
    pub data: Vec<PriceView>,
    /// Price per segment where no entry matches.
    #[schema(value_type = String, example = "0.0350")]
    pub default_price: Amount,
}

#[utoipa::path(get, path = "/admin/v1/prices", tag = "admin",
    responses((status = 200, body = PriceList)), security(("admin_token" = [])))]
pub async fn list_prices(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<PriceList>, Problem> {
    let prices = state.engine.default_prices().await?;
    Ok(Json(PriceList {
        data: prices
            .into_iter()
            .map(|p| PriceView {
                route_class: p.route_class,
                prefix: p.prefix,
                price: p.per_segment,
            })
            .collect(),
        default_price: smsgate_core::credits::DEFAULT_PRICE,
    }))
}

/// Set the price per segment for a route class and destination prefix.
#[utoipa::path(put, path = "/admin/v1/prices", tag = "admin", request_body = PriceView,
    responses((status = 200, body = PriceView), (status = 422, body = Problem)), security(("admin_token" = [])))]
pub async fn set_price(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: JsonBody<PriceView, SMALL>,
) -> Result<Json<PriceView>, Problem> {
    let p = body.value;
    state
        .engine
        .set_price(
            &by,
            Price {
                route_class: p.route_class.clone(),
                prefix: p.prefix.clone(),
                per_segment: p.price,
            },
        )
        .await?;
    Ok(Json(p))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PriceKey {
    #[serde(default = "standard")]
    pub(crate) route_class: String,
    pub(crate) prefix: String,
}

impl PriceKey {
    /// The answer when the list has no such price.
    pub(crate) fn not_found(&self) -> Problem {
        Problem::not_found(format!(
            "no price for route class {:?} and prefix {:?}",
            self.route_class, self.prefix
        ))
    }
}

/// Remove a price entry.
#[utoipa::path(delete, path = "/admin/v1/prices", tag = "admin", params(PriceKey),
    responses((status = 204), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn delete_price(
    State(state): State<AppState>,
    Admin(by): Admin,
    query: Result<Query<PriceKey>, axum::extract::rejection::QueryRejection>,
) -> Result<StatusCode, Problem> {
    let Query(k) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    if state
        .engine
        .delete_price(&by, &k.route_class, &k.prefix)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(k.not_found())
    }
}
