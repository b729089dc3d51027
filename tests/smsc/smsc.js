// A third-party SMSC for smsgate's tests: node-smpp (npm `smpp`) as the
// SMPP server, steered and inspected over a small HTTP control API.
//
//   node smsc.js [--port N] [--control N] [--tls-key FILE --tls-cert FILE]
//
// Prints one JSON line {"smpp": port, "control": port} once listening.
//
// Control API (JSON in, JSON out):
//   GET  /state            binds, submits (decoded by node-smpp), counters
//   POST /config {...}     change behaviour (see `config` below)
//   POST /mo {...}         send a deliver_sm (mobile-originated) to a receiver bind
//   POST /enquire          send enquire_link on every bind; answers counted
//   POST /drop             close every connection at once
//   POST /malformed        send a PDU with a truncated body on every bind
//   POST /restart {ms}     stop listening and close everything, listen again after ms
//   POST /reset            forget submits and counters
'use strict';

const smpp = require('smpp');
const http = require('http');

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const textArg = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : null;
};
const fs = require('fs');
// With a key and a certificate, the SMSC speaks SMPP over TLS.
const tlsOptions = textArg('--tls-key')
  ? { key: fs.readFileSync(textArg('--tls-key')), cert: fs.readFileSync(textArg('--tls-cert')) }
  : {};

const config = {
  system_id: 'smsgate',
  password: 'secret',
  // How submit_sm_resp writes message ids: "hex" (upper case, padded to
  // 10), "decimal", "hex-lower".
  id_format: 'hex',
  // How receipts write the same id: as above, or "same".
  receipt_id_format: 'same',
  // Receipt: "after" the submit_sm_resp, "before" it, or "none".
  receipt_order: 'after',
  receipt_delay_ms: 10,
  // Receipt stat by destination suffix, e.g. {"0": "UNDELIV"}.
  stat_by_suffix: {},
  // The next N submits get this status instead of ESME_ROK.
  fail_next: 0,
  fail_status: 0x58,
  // Answer submits after this long.
  response_delay_ms: 0,
  // Stop answering anything (enquire_link included).
  silent: false,
  // Drop the connection after this many more submits (mid-window), 0 = never.
  drop_after: 0,
  // Keep every submit for GET /state (off for benchmarks).
  record: true,
};

let nextId = 1;
let submits = [];
const counters = { generic_nacks: 0, binds: 0, max_bound: 0, receipts_requeued: 0, bind_refused: 0, unbinds: 0, enquire_links: 0, enquire_link_resps: 0, deliver_sm_resps: {}, submits: 0, connections: 0 };
const sessions = new Set();
const receipts = new Map(); // receipt sequence -> status, for the record

function formatId(n, format) {
  switch (format) {
    case 'decimal': return String(n);
    case 'hex-lower': return n.toString(16);
    default: return n.toString(16).toUpperCase().padStart(10, '0');
  }
}

function statFor(dest) {
  for (const [suffix, stat] of Object.entries(config.stat_by_suffix)) {
    if (dest.endsWith(suffix)) return stat;
  }
  return 'DELIVRD';
}

function yymmddhhmm(d) {
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes());
}

const STATES = { DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8, ENROUTE: 1 };

function sendReceipt(session, pdu, n) {
  const dest = pdu.destination_addr;
  const stat = statFor(dest);
  const receiptFormat = config.receipt_id_format === 'same' ? config.id_format : config.receipt_id_format;
  const id = formatId(n, receiptFormat);
  const now = new Date();
  const text = `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:${yymmddhhmm(now)} done date:${yymmddhhmm(now)} stat:${stat} err:000 text:`;
  deliverReceipt(receiverFor(session), {
    source_addr: dest,
    destination_addr: pdu.source_addr,
    esm_class: 0x04,
    short_message: text,
    receipted_message_id: id,
    message_state: STATES[stat] || 7,
  });
}

// As a carrier's SMSC does, a receipt nobody acknowledged (no bind could
// receive it, or its bind closed before the deliver_sm_resp) waits for
// the next receiver bind.
const pendingReceipts = [];

function deliverReceipt(receiver, receipt) {
  if (!receiver) {
    pendingReceipts.push(receipt);
    return;
  }
  receiver.awaiting.add(receipt);
  receiver.deliver_sm({ ...receipt, short_message: Buffer.from(receipt.short_message, 'latin1') }, (resp) => {
    receiver.awaiting.delete(receipt);
    const k = String(resp.command_status);
    counters.deliver_sm_resps[k] = (counters.deliver_sm_resps[k] || 0) + 1;
    // Refused for now (ESME_RX_T_APPN, throttled): sent again later.
    if (resp.command_status === 0x64 || resp.command_status === 0x58) {
      setTimeout(() => deliverReceipt(receiverFor(null), receipt), 500);
    }
  });
}

function boundNow() {
  return [...sessions].filter((s) => s.kind && !s.closed).length;
}

// Receipts and MO go to a bind that may receive: the submitting session if
// it is a transceiver, else any receiver or transceiver.
function receiverFor(session) {
  if (session && session.kind === 'transceiver' && !session.closed) return session;
  for (const s of sessions) {
    if ((s.kind === 'receiver' || s.kind === 'transceiver') && !s.closed) return s;
  }
  return null;
}

function textOf(pdu) {
  const sm = pdu.short_message;
  if (pdu.message_payload) {
    const mp = pdu.message_payload;
    return typeof mp.message === 'string' ? mp.message : String(mp);
  }
  if (sm && typeof sm.message === 'string') return sm.message;
  if (sm && Buffer.isBuffer(sm.message)) return sm.message.toString('latin1');
  return '';
}

function concatOf(pdu) {
  const sm = pdu.short_message;
  if (sm && sm.udh) {
    for (const ie of sm.udh) {
      if (ie[0] === 0x00) return { mode: 'udh8', ref: ie[2], total: ie[3], seq: ie[4] };
      if (ie[0] === 0x08) return { mode: 'udh16', ref: ie.readUInt16BE(2), total: ie[4], seq: ie[5] };
    }
  }
  if (pdu.sar_msg_ref_num !== undefined) {
    return { mode: 'sar', ref: pdu.sar_msg_ref_num, total: pdu.sar_total_segments, seq: pdu.sar_segment_seqnum };
  }
  if (pdu.message_payload) return { mode: 'payload' };
  return null;
}

function onSubmit(session, pdu) {
  counters.submits++;
  if (config.silent) return;
  if (config.drop_after > 0) {
    config.drop_after--;
    if (config.drop_after === 0) {
      session.destroy();
      return;
    }
  }
  const answer = () => {
    if (session.closed) return;
    if (config.fail_next > 0) {
      config.fail_next--;
      session.send(pdu.response({ command_status: config.fail_status }));
      return;
    }
    const n = nextId++;
    const messageId = formatId(n, config.id_format);
    if (config.record) submits.push({
      message_id: messageId,
      bind: session.kind,
      session: session.number,
      source_addr: pdu.source_addr,
      source_addr_ton: pdu.source_addr_ton,
      destination_addr: pdu.destination_addr,
      esm_class: pdu.esm_class,
      data_coding: pdu.data_coding,
      registered_delivery: pdu.registered_delivery,
      text: textOf(pdu),
      concat: concatOf(pdu),
    });
    const wantsReceipt = (pdu.registered_delivery & 0x03) !== 0;
    if (wantsReceipt && config.receipt_order === 'before') {
      sendReceipt(session, pdu, n);
      // The receipt is on the wire first; answer the submit a little later.
      setTimeout(() => { if (!session.closed) session.send(pdu.response({ message_id: messageId })); }, 30);
      return;
    }
    session.send(pdu.response({ message_id: messageId }));
    if (wantsReceipt && config.receipt_order === 'after') {
      setTimeout(() => sendReceipt(session, pdu, n), config.receipt_delay_ms);
    }
  };
  if (config.response_delay_ms > 0) setTimeout(answer, config.response_delay_ms);
  else answer();
}

function onSession(session) {
  counters.connections++;
  // Which connection a submit came on (GET /state's submits).
  session.number = counters.connections;
  session.kind = null;
  session.awaiting = new Set();
  sessions.add(session);
  session.on('close', () => {
    sessions.delete(session);
    for (const r of session.awaiting) {
      counters.receipts_requeued++;
      pendingReceipts.push(r);
    }
    session.awaiting.clear();
  });
  session.on('error', () => {});
  const onBind = (kind) => (pdu) => {
    if (pdu.system_id !== config.system_id || pdu.password !== config.password) {
      counters.bind_refused++;
      session.send(pdu.response({ command_status: pdu.system_id !== config.system_id ? smpp.ESME_RINVSYSID : smpp.ESME_RINVPASWD }));
      return;
    }
    counters.binds++;
    session.kind = kind;
    counters.max_bound = Math.max(counters.max_bound, boundNow());
    session.send(pdu.response({ system_id: 'TESTSMSC' }));
    if (kind !== 'transmitter') {
      for (const r of pendingReceipts.splice(0)) deliverReceipt(session, r);
    }
  };
  session.on('bind_transmitter', onBind('transmitter'));
  session.on('bind_receiver', onBind('receiver'));
  session.on('bind_transceiver', onBind('transceiver'));
  session.on('submit_sm', (pdu) => {
    if (session.kind !== 'transmitter' && session.kind !== 'transceiver') {
      session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
      return;
    }
    onSubmit(session, pdu);
  });
  session.on('enquire_link', (pdu) => {
    counters.enquire_links++;
    if (!config.silent) session.send(pdu.response());
  });
  session.on('enquire_link_resp', () => { counters.enquire_link_resps++; });
  session.on('generic_nack', () => { counters.generic_nacks++; });
  session.on('unbind', (pdu) => {
    counters.unbinds++;
    session.send(pdu.response());
    session.close();
  });
}

let smppServer = null;
let smppPort = arg('--port', 0);

function listen(cb) {
  smppServer = smpp.createServer(tlsOptions, onSession);
  smppServer.on('error', (e) => { console.error('smsc:', e.message); });
  smppServer.listen(smppPort, '127.0.0.1', () => {
    smppPort = smppServer.address().port;
    if (cb) cb();
  });
}

function closeAll() {
  for (const s of sessions) s.destroy();
  sessions.clear();
}

function sendMo(body) {
  const s = receiverFor(null);
  if (!s) return { error: 'no receiver bind' };
  const parts = body.parts || [{ text: body.text }];
  const coding = body.data_coding === undefined ? 0 : body.data_coding;
  const ref = body.ref === undefined ? 42 : body.ref;
  parts.forEach((p, i) => {
    const fields = {
      source_addr: body.from,
      source_addr_ton: 1,
      source_addr_npi: 1,
      destination_addr: body.to,
      data_coding: coding,
    };
    let content = coding === 8 ? Buffer.from(p.text, 'utf16le').swap16() : (coding === 3 ? Buffer.from(p.text, 'latin1') : gsm(p.text));
    if (parts.length > 1 && body.concat === 'sar') {
      fields.sar_msg_ref_num = ref;
      fields.sar_total_segments = parts.length;
      fields.sar_segment_seqnum = i + 1;
    } else if (parts.length > 1) {
      content = Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, parts.length, i + 1]), content]);
      fields.esm_class = 0x40;
    }
    fields.short_message = content;
    s.deliver_sm(fields, (resp) => {
      const k = String(resp.command_status);
      counters.deliver_sm_resps[k] = (counters.deliver_sm_resps[k] || 0) + 1;
    });
  });
  return { sent: parts.length };
}

// GSM 03.38 unpacked, for the characters the tests use.
function gsm(text) {
  const basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  const ext = { '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f, '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65 };
  const out = [];
  for (const c of text) {
    const i = basic.indexOf(c);
    if (i >= 0) out.push(i);
    else if (c in ext) out.push(0x1b, ext[c]);
    else out.push(0x3f);
  }
  return Buffer.from(out);
}

function readJson(req, cb) {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => {
    try { cb(data ? JSON.parse(data) : {}); } catch (e) { cb({}); }
  });
}

const control = http.createServer((req, res) => {
  const reply = (obj) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  };
  readJson(req, (body) => {
    switch (`${req.method} ${req.url}`) {
      case 'GET /state':
        return reply({
          config,
          counters,
          binds: [...sessions].map((s) => s.kind),
          pending_receipts: pendingReceipts.length,
          submits,
        });
      case 'POST /config':
        Object.assign(config, body);
        return reply(config);
      case 'POST /mo':
        return reply(sendMo(body));
      case 'POST /enquire':
        for (const s of sessions) if (s.kind) s.enquire_link();
        return reply({ sent: sessions.size });
      case 'POST /drop':
        closeAll();
        return reply({ dropped: true });
      case 'POST /malformed':
        for (const s of sessions) {
          // submit_sm_resp-sized header claiming a deliver_sm, body cut short.
          const b = Buffer.from([0, 0, 0, 20, 0, 0, 0, 5, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xf0, 0x41, 0x42, 0x43, 0x44]);
          s.socket.write(b);
        }
        return reply({ sent: sessions.size });
      case 'POST /restart': {
        const ms = body.ms || 500;
        smppServer.close();
        closeAll();
        setTimeout(() => listen(), ms);
        return reply({ restarting: ms });
      }
      case 'POST /reset':
        submits = [];
        for (const k of Object.keys(counters)) counters[k] = typeof counters[k] === 'object' ? {} : 0;
        return reply({ reset: true });
      default:
        res.writeHead(404);
        res.end('{}');
    }
  });
});

listen(() => {
  control.listen(arg('--control', 0), '127.0.0.1', () => {
    console.log(JSON.stringify({ smpp: smppPort, control: control.address().port }));
  });
});
