// The desk page: the clerk picks a document and purpose, the page asks the service for a
// presentation request, shows its QR code, polls for the result and shows the verdict in
// Vietnamese and English. It also verifies offline giayto QR texts typed by a USB barcode
// scanner (keyboard input ending with Enter) or pasted. No framework, no build step; every
// value from the service is put in the page as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let catalogue = [];
// The names of enumerated claim values ("guardian" -> người giám hộ / guardian), core's,
// from /api/value-names.
let valueNames = {};
let polling = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Both languages: "vi" then the English in a lighter span.
function both(vi, en) {
  return el("span", {}, vi, " ", el("span", { class: "en" }, en));
}

function pad(n) { return String(n).padStart(2, "0"); }

// A Unix time as a date: dd/mm/yyyy (UTC).
function date(seconds) {
  if (seconds === null || seconds === undefined) return null;
  const d = new Date(seconds * 1000);
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

// An age in seconds in words, in the two largest units that matter: "12 phút trước" /
// "12 minutes ago", "3 giờ 5 phút trước" / "3 hours 5 minutes ago". The same words as
// giayto-core's verifier::format_age (the Chromium desk test compares the two).
function age(seconds) {
  const s = Math.max(0, seconds);
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const count = (n, unit) => (n === 1 ? `1 ${unit}` : `${n} ${unit}s`);
  let vi, en;
  if (days > 0) [vi, en] = [`${days} ngày ${hours} giờ`, `${count(days, "day")} ${count(hours, "hour")}`];
  else if (hours > 0) [vi, en] = [`${hours} giờ ${minutes} phút`, `${count(hours, "hour")} ${count(minutes, "minute")}`];
  else if (minutes > 0) [vi, en] = [`${minutes} phút`, count(minutes, "minute")];
  else [vi, en] = [`${s} giây`, count(s, "second")];
  return both(`${vi} trước`, `${en} ago`);
}

// The claims holding a Unix time (giayto-core's catalogue::representation::UNIX_TIME_CLAIMS;
// a test in desk.rs keeps the two lists the same).
const UNIX_TIME_CLAIMS = ["representation.valid_until"];

// A claim value: ISO dates and Unix times as dates, the rest as text.
function value(v, path) {
  if (typeof v === "number" && UNIX_TIME_CLAIMS.includes(path)) return date(v);
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const [y, m, d] = v.split("-");
    return `${d}/${m}/${y}`;
  }
  if (typeof v === "boolean") return v ? "có / yes" : "không / no";
  if (typeof v === "string" && Object.hasOwn(valueNames, v)) {
    const names = valueNames[v];
    return names.vi === names.en ? names.vi : `${names.vi} / ${names.en}`;
  }
  if (v === null) return "—";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

const BINDING = {
  verified: ["Đã xác minh: trình từ điện thoại được cấp giấy tờ", "Verified: shown from the phone the document was issued to"],
  not_bound: ["Không gắn với thiết bị (bản giấy)", "Not bound to a device (paper form)"],
  failed: ["Xác minh thiết bị thất bại", "Device binding failed"],
  not_checked: ["Chưa kiểm tra", "Not checked"],
};
const STATUS = {
  valid: ["Còn hiệu lực (chưa bị thu hồi)", "Not revoked"],
  revoked: ["Đã bị thu hồi", "Revoked"],
  suspended: ["Đang bị tạm đình chỉ", "Suspended"],
  valid_stale: ["Chưa bị thu hồi (danh sách trạng thái đã cũ)", "Not revoked (status list is old)"],
  unknown: ["Không rõ trạng thái", "Status unknown"],
  list_missing: ["Không có danh sách trạng thái", "Status list not available"],
  not_applicable: ["Giấy tờ không có tham chiếu trạng thái", "The document has no status reference"],
  not_checked: ["Chưa kiểm tra", "Not checked"],
};

// Appends the nodes that exist (an empty list or a missing part is left out).
function put(parent, ...nodes) {
  for (const node of nodes) if (node) parent.append(node);
}

function row(th, td) { return el("tr", {}, el("th", {}, th), el("td", {}, td)); }

function verdictTable(verdict) {
  const table = el("table", { class: "verdict-table" });
  const doc = verdict.document_type;
  if (doc) {
    const name = doc.name ? both(doc.name.vi, doc.name.en) : doc.vct;
    const purpose = doc.purpose ? el("span", {}, " — ", both(doc.purpose.name.vi, doc.purpose.name.en)) : null;
    table.append(row(both("Giấy tờ", "Document"), el("span", { id: "verdict-document" }, name, purpose)));
  }
  if (verdict.issuer) {
    const issuer = verdict.issuer.name ? both(verdict.issuer.name.vi, verdict.issuer.name.en) : verdict.issuer.id;
    table.append(row(both("Cơ quan cấp", "Issuer"), issuer));
  }
  for (const claim of verdict.claims || []) {
    const label = claim.label ? both(claim.label.vi, claim.label.en) : claim.path;
    table.append(row(label, value(claim.value, claim.path)));
  }
  const v = verdict.validity || {};
  if (v.issued_at) table.append(row(both("Ngày cấp", "Issued"), date(v.issued_at)));
  if (v.not_before) table.append(row(both("Hiệu lực từ", "Valid from"), date(v.not_before)));
  if (v.expires_at) table.append(row(both("Hết hạn", "Expires"), el("span", { id: "verdict-expires" }, date(v.expires_at))));
  const binding = BINDING[verdict.holder_binding && verdict.holder_binding.state] || BINDING.not_checked;
  table.append(row(both("Gắn với người giữ", "Holder binding"), both(binding[0], binding[1])));
  const status = STATUS[verdict.status] || STATUS.unknown;
  table.append(row(both("Trạng thái", "Status"), both(status[0], status[1])));
  // How old the status information was when the document was checked: a list confirmed
  // minutes ago is not one confirmed days ago, even before it goes stale.
  const fresh = verdict.status_freshness;
  if (fresh) {
    table.append(row(both("Trạng thái cập nhật", "Status as of"),
      el("span", { id: "verdict-status-age" }, age(fresh.age_seconds))));
  }
  return table;
}

function list(cls, items) {
  if (!items.length) return null;
  return el("ul", { class: cls }, ...items.map((text) => el("li", {}, text)));
}

// Shows a verdict: where it came from ("request" or "scan"), `valid`, overall `errors`
// (strings) and per-credential verdicts.
function showVerdict(source, valid, errors, verdicts, walletError) {
  const box = $("verdict");
  box.replaceChildren();
  box.dataset.source = source;
  box.className = valid ? "valid" : "invalid";
  box.append(el("h2", { class: "headline", id: "verdict-headline" },
    valid ? both("HỢP LỆ", "VALID") : both("KHÔNG HỢP LỆ", "NOT VALID")));
  if (walletError) {
    box.append(el("p", {}, both("Người dân đã từ chối hoặc ví báo lỗi:", "The citizen declined or the wallet failed:"), " ", walletError));
  }
  put(box, list("errors", errors));
  for (const verdict of verdicts) {
    put(box, verdictTable(verdict),
      list("errors", (verdict.errors || []).map((e) => e.message)),
      list("warnings", (verdict.warnings || []).map((w) => w.message)));
  }
  box.hidden = false;
}

function fillPresets() {
  const doc = catalogue.find((d) => d.id === $("document").value);
  $("preset").replaceChildren(...(doc ? doc.presets : []).map((p) =>
    el("option", { value: p.name }, `${p.label.vi} / ${p.label.en}`)));
}

async function loadCatalogue() {
  const response = await fetch("/api/catalogue");
  catalogue = await response.json();
  const names = await fetch("/api/value-names");
  if (names.ok) valueNames = await names.json();
  $("document").replaceChildren(...catalogue.map((d) =>
    el("option", { value: d.id }, `${d.name.vi} / ${d.name.en}`)));
  fillPresets();
}

function setStatus(vi, en) { $("status").replaceChildren(both(vi, en)); }

async function poll(id) {
  const response = await fetch(`/api/requests/${encodeURIComponent(id)}`);
  if (!response.ok) {
    clearInterval(polling);
    setStatus("Yêu cầu đã hết hạn. Tạo yêu cầu mới.", "The request expired. Create a new one.");
    return;
  }
  const view = await response.json();
  if (view.state === "pending") {
    if (view.fetched) setStatus("Ví đã nhận yêu cầu, đang chờ người dân đồng ý…", "The wallet has the request; waiting for the citizen's consent…");
  } else if (view.state === "verifying") {
    setStatus("Đang kiểm tra…", "Verifying…");
  } else if (view.state === "answered") {
    clearInterval(polling);
    setStatus("Đã nhận trả lời.", "Answer received.");
    const r = view.result;
    showVerdict("request", r.valid, r.errors, r.credentials.map((c) => c.verdict), r.wallet_error);
  }
}

async function createRequest() {
  clearInterval(polling);
  $("verdict").hidden = true;
  const response = await fetch("/api/requests", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      document: $("document").value,
      preset: $("preset").value,
      same_device: $("same-device").checked,
    }),
  });
  const body = await response.json();
  if (!response.ok) {
    $("request").hidden = false;
    setStatus("Không tạo được yêu cầu: " + body.error_description, "Could not create the request.");
    return;
  }
  $("qr").hidden = false;
  $("qr").src = `/api/requests/${encodeURIComponent(body.id)}/qr.png`;
  $("invocation").href = body.openid4vp_uri;
  $("invocation").dataset.uri = body.openid4vp_uri;
  $("haip").href = body.haip_uri;
  $("request").hidden = false;
  $("request").dataset.requestId = body.id;
  setStatus(`Đang chờ ví… (hết hạn lúc ${new Date(body.expires_at * 1000).toLocaleTimeString("vi-VN")})`, "Waiting for the wallet…");
  polling = setInterval(() => poll(body.id).catch(() => {}), 1000);
}

async function scan(event) {
  event.preventDefault();
  const text = $("scan-input").value.trim();
  if (!text) return;
  $("scan-input").value = "";
  const response = await fetch("/api/scan", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ qr: text }),
  });
  const verdict = await response.json();
  if (!response.ok) {
    showVerdict("scan", false, [verdict.error_description || "error"], [], null);
    return;
  }
  showVerdict("scan", verdict.valid, [], [verdict], null);
  $("scan-input").focus();
}

// Back from a wallet on this device (same-device flow): show that request's result.
function resumeFromWallet() {
  const id = new URLSearchParams(window.location.search).get("request");
  if (!id) return;
  $("request").hidden = false;
  $("qr").hidden = true;
  setStatus("Đang lấy kết quả…", "Fetching the result…");
  poll(id).catch(() => {});
  polling = setInterval(() => poll(id).catch(() => {}), 1000);
}

$("document").addEventListener("change", fillPresets);
$("create").addEventListener("click", () => createRequest().catch((e) => setStatus("Lỗi: " + e, "Error")));
$("scan-form").addEventListener("submit", (e) => scan(e).catch(() => {}));
loadCatalogue();
resumeFromWallet();
