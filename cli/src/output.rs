//! What the command prints: presentations and their QR codes, verdicts and wallet
//! documents, in text for people (labels in Vietnamese and English) or JSON for scripts.

use std::fmt::Write as _;

use giayto_core::qr::image::{EcLevel, qr_version, render_png, render_svg, render_terminal};
use giayto_core::verifier::{HolderBinding, Names, StatusView, Verdict};
use giayto_core::wallet::{DocumentView, PresentationOutput};
use serde_json::{Value, json};

use crate::QrOutArgs;
use crate::error::CliError;
use crate::files;

/// The error-correction level of every QR code the command draws (about 15 % damage).
pub const QR_EC_LEVEL: EcLevel = EcLevel::M;

/// Prints a presentation, or renders its QR code as `qr` asks: a file is named (the text
/// is in `--json`), a terminal drawing is followed by its size.
pub fn presentation(out: &PresentationOutput, qr: &QrOutArgs, json: bool) -> Result<(), CliError> {
    render(out, qr, json, false)
}

/// `giayto qr encode`: as [`presentation`], but the QR text is the product, printed on
/// stdout even when an image file is written too (which is then named on stderr).
pub fn qr_text(out: &PresentationOutput, qr: &QrOutArgs, json: bool) -> Result<(), CliError> {
    render(out, qr, json, true)
}

/// Opens each file `qr` names for writing (creating it, not yet truncating it), so an
/// output that cannot be written is refused before a one-use purpose credential is spent on
/// a QR code nobody will see.
pub fn check_writable(qr: &QrOutArgs) -> Result<(), CliError> {
    for path in [&qr.qr_png, &qr.qr_svg].into_iter().flatten() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| CliError::write(path, e))?;
    }
    Ok(())
}

fn render(
    out: &PresentationOutput,
    qr: &QrOutArgs,
    json: bool,
    text_is_the_product: bool,
) -> Result<(), CliError> {
    let version = qr_version(&out.qr_text, QR_EC_LEVEL)?;
    let mut file = None;
    if let Some(path) = &qr.qr_png {
        files::write_public(path, &render_png(&out.qr_text, QR_EC_LEVEL)?)?;
        file = Some(path);
    } else if let Some(path) = &qr.qr_svg {
        files::write_public(path, render_svg(&out.qr_text, QR_EC_LEVEL)?.as_bytes())?;
        file = Some(path);
    }
    if json {
        let body = json!({
            "presentation": out.presentation,
            "qr_text": out.qr_text,
            "qr_version": version,
            "qr_ec_level": "M",
            "file": file.map(|p| p.display().to_string()),
        });
        print!("{}", files::pretty_json(&body)?);
    } else if qr.qr_terminal {
        match terminal_qr(&out.qr_text)? {
            // The caption goes on a line of its own, never on the drawing's last row.
            TerminalQr::Fits(drawing) if drawing.ends_with('\n') => print!("{drawing}"),
            TerminalQr::Fits(drawing) => println!("{drawing}"),
            TerminalQr::TooSmall(message) => println!("{message}"),
        }
        println!(
            "QR version {version}, level M, {} characters",
            out.qr_text.len()
        );
    } else if let Some(path) = file.filter(|_| text_is_the_product) {
        println!("{}", out.qr_text);
        eprintln!(
            "QR code written to {} (version {version}, level M, {} characters)",
            path.display(),
            out.qr_text.len()
        );
    } else if let Some(path) = file {
        // The file is what was asked for: the text stays out of the way (`--json` has it).
        println!(
            "Đã ghi mã QR vào / QR code written to {} (phiên bản / version {version}, mức / level M, {} ký tự / characters)",
            path.display(),
            out.qr_text.len()
        );
    } else if text_is_the_product {
        println!("{}", out.qr_text);
    } else {
        println!("{}", out.presentation);
    }
    Ok(())
}

/// A QR code for the terminal: its half-block drawing, or why it is not drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalQr {
    /// The drawing fits the terminal (or stdout is not a terminal, which has no size).
    Fits(String),
    /// The terminal is too small for a scannable drawing: says its size and the size
    /// needed, instead of a wrapped drawing no camera can read.
    TooSmall(String),
}

/// Draws `text` as a QR code with half blocks (two module rows per line) when stdout's
/// terminal can hold it whole; otherwise says plainly that it cannot.
pub fn terminal_qr(text: &str) -> Result<TerminalQr, CliError> {
    let drawing = render_terminal(text, QR_EC_LEVEL)?;
    Ok(fit_terminal(
        drawing,
        console::Term::stdout().size_checked(),
    ))
}

/// [`terminal_qr`] for a terminal of `size` (rows, columns); `None`: not a terminal.
pub fn fit_terminal(drawing: String, size: Option<(u16, u16)>) -> TerminalQr {
    let width = drawing
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let height = drawing.lines().count();
    match size {
        Some((rows, columns)) if usize::from(columns) < width || usize::from(rows) < height => {
            TerminalQr::TooSmall(format!(
                "Cửa sổ quá nhỏ để vẽ mã QR (cần {width}×{height}, có {columns}×{rows}): phóng to \
                 cửa sổ hoặc dùng --qr-png / The terminal is too small for the QR code ({columns} \
                 columns × {rows} rows; it needs {width} × {height}): enlarge it or use --qr-png"
            ))
        }
        _ => TerminalQr::Fits(drawing),
    }
}

fn both(names: &Names) -> String {
    if names.vi == names.en {
        names.vi.to_string()
    } else {
        format!("{} / {}", names.vi, names.en)
    }
}

/// The value of the claim at `path` (as shown: `representation.valid_until`) for people:
/// a Unix time as a date in both languages
/// ([`giayto_core::catalogue::representation::UNIX_TIME_CLAIMS`]), booleans and word
/// enumerations in both languages (`không / no`, `nữ / female`), other strings as they are.
pub fn value_text(path: &str, value: &Value) -> String {
    if giayto_core::catalogue::representation::is_unix_time(path)
        && let Some(unix) = value.as_i64()
    {
        return crate::dates::date_time(unix);
    }
    if let Some(names) = giayto_core::catalogue::value_names(value) {
        return if names.vi == names.en {
            names.vi.to_owned()
        } else {
            format!("{} / {}", names.vi, names.en)
        };
    }
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The JSON a script gets for a verdict.
pub fn verdict_json(verdict: &Verdict) -> Result<Value, CliError> {
    serde_json::to_value(verdict).map_err(|e| CliError::Format(format!("cannot serialize: {e}")))
}

/// The verdict for people.
pub fn verdict_text(verdict: &Verdict) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}",
        if verdict.valid {
            "HỢP LỆ / VALID"
        } else {
            "KHÔNG HỢP LỆ / INVALID"
        }
    );
    if let Some(doc) = &verdict.document_type {
        let name = doc.name.as_ref().map_or(doc.vct.clone(), both);
        let _ = writeln!(s, "Loại giấy tờ / Document: {name}");
        if let Some(purpose) = &doc.purpose {
            let _ = writeln!(
                s,
                "Mục đích / Purpose: {} (chỉ chứa các thông tin cho mục đích này / holds only the claims for this purpose)",
                both(&purpose.name)
            );
        }
    }
    if let Some(issuer) = &verdict.issuer {
        let name = issuer.name.as_ref().map_or(issuer.id.clone(), |n| {
            format!("{} ({})", both(n), issuer.id)
        });
        let _ = writeln!(s, "Cơ quan cấp / Issuer: {name}");
    }
    // Nothing is said about binding or status when the presentation was refused before
    // they were checked: a person would read it as the cause.
    let binding = match &verdict.holder_binding {
        HolderBinding::Verified { aud, iat, .. } => Some(format!(
            "gắn với thiết bị / bound to the holder's device (aud {aud}, trình lúc / shown at {})",
            crate::dates::date_time(*iat)
        )),
        HolderBinding::NotBound => Some(
            "KHÔNG gắn với thiết bị / NOT bound to a device (paper form or no key binding)".into(),
        ),
        HolderBinding::Failed => Some("kiểm tra thất bại / key binding failed".into()),
        HolderBinding::NotChecked => None,
    };
    if let Some(binding) = binding {
        let _ = writeln!(s, "Thiết bị / Holder binding: {binding}");
    }
    let status = match verdict.status {
        StatusView::Valid => Some("còn hiệu lực / valid"),
        StatusView::Revoked => Some("đã thu hồi / REVOKED"),
        StatusView::Suspended => Some("tạm đình chỉ / SUSPENDED"),
        StatusView::ValidStale => Some("còn hiệu lực (danh sách cũ) / valid (stale list)"),
        StatusView::Unknown => Some("không rõ / unknown"),
        StatusView::ListMissing => Some("không kiểm tra được / status list missing"),
        StatusView::NotApplicable => Some("không áp dụng / no status reference"),
        StatusView::NotChecked => None,
    };
    if let Some(status) = status {
        let _ = writeln!(s, "Trạng thái / Status: {status}");
    }
    // The age of the status information matters once the list is past its ttl: then say
    // when it was last confirmed.
    if let Some(f) = &verdict.status_freshness
        && f.checked_at.saturating_add(f.age_seconds) > f.refresh_at
    {
        let _ = writeln!(
            s,
            "Trạng thái kiểm tra lúc / Status as of: {} ({}); danh sách ký lúc / list signed: {}",
            crate::dates::date_time(f.checked_at),
            giayto_core::verifier::format_age(f.age_seconds),
            crate::dates::date_time(f.issued_at),
        );
    }
    if let Some(exp) = verdict.validity.expires_at {
        let _ = writeln!(s, "Hết hạn / Expires: {}", crate::dates::date_time(exp));
    }
    if !verdict.claims.is_empty() {
        let _ = writeln!(s, "Thông tin / Claims:");
        for claim in &verdict.claims {
            let label = claim.label.as_ref().map_or(claim.path.clone(), both);
            let _ = writeln!(s, "  {label}: {}", value_text(&claim.path, &claim.value));
        }
    }
    for error in &verdict.errors {
        let _ = writeln!(
            s,
            "Lỗi / Error [{}]: {}",
            code_name(&error.code),
            error.message
        );
    }
    for warning in &verdict.warnings {
        let _ = writeln!(
            s,
            "Cảnh báo / Warning [{}]: {}",
            code_name(&warning.code),
            warning.message
        );
    }
    s
}

fn code_name(code: &impl serde::Serialize) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A wallet document as JSON.
pub fn document_json(doc: &DocumentView, with_claims: bool) -> Value {
    let mut body = json!({
        "id": doc.id,
        "vct": doc.vct,
        "name": doc.name.as_ref().map(|n| json!({"vi": n.vi, "en": n.en})),
        "issuer": doc.issuer,
        "expires_at": doc.expires_at,
        "received_at": doc.received_at,
    });
    if with_claims {
        body["claims"] = doc
            .claims
            .iter()
            .map(|c| {
                json!({
                    "path": c.path,
                    "label": c.label.as_ref().map(|n| json!({"vi": n.vi, "en": n.en})),
                    "value": c.value,
                })
            })
            .collect();
        body["presets"] = json!(presets_of(&doc.vct));
    }
    body
}

/// The preset names of a document type (`--preset`), in catalogue order; none outside the
/// catalogue.
pub fn presets_of(vct: &str) -> Vec<&'static str> {
    giayto_core::catalogue::by_vct(vct).map_or_else(Vec::new, |t| t.preset_names())
}

/// Every document type's presets, for `--preset`'s help.
pub fn presets_help() -> String {
    let mut s = String::from(
        "A disclosure preset of the document type (`giayto wallet show ID` lists the document's). \
         Presets by type:",
    );
    for t in giayto_core::catalogue::all() {
        let _ = write!(s, "\n  {}: {}", t.id, t.preset_names().join(", "));
    }
    s
}

/// A wallet document for people: one line, or the claims too.
pub fn document_text(doc: &DocumentView, with_claims: bool) -> String {
    let name = doc.name.as_ref().map_or(doc.vct.clone(), both);
    let mut s = format!("{}  {}  ({})\n", doc.id, name, doc.issuer);
    if with_claims {
        let _ = writeln!(
            s,
            "  Đã nhận / Received: {}",
            crate::dates::date_time(doc.received_at)
        );
        if let Some(exp) = doc.expires_at {
            let _ = writeln!(s, "  Hết hạn / Expires: {}", crate::dates::date_time(exp));
        }
        for claim in &doc.claims {
            let label = claim.label.as_ref().map_or(claim.path.clone(), both);
            let _ = writeln!(s, "  {label}: {}", value_text(&claim.path, &claim.value));
        }
        let presets = presets_of(&doc.vct);
        if !presets.is_empty() {
            let _ = writeln!(
                s,
                "  Cách trình bày / Presets (--preset): {}",
                presets.join(", ")
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use giayto_core::verifier::{FailureCode, StatusFreshness, StatusView, Verdict};

    use super::verdict_text;

    fn with_status(checked_at: i64, age_seconds: i64) -> Verdict {
        let mut verdict = Verdict::refused(FailureCode::Revoked, "x");
        verdict.status = StatusView::ValidStale;
        verdict.status_freshness = Some(StatusFreshness {
            list_uri: "https://police.giayto.example/status-lists/1".into(),
            issued_at: checked_at - 600,
            checked_at,
            age_seconds,
            refresh_at: checked_at + 300,
            expires_at: Some(checked_at + 8 * 86_400),
        });
        verdict
    }

    #[test]
    fn the_status_age_is_shown_once_the_list_is_past_its_ttl() {
        let stale = verdict_text(&with_status(1_795_421_105, 26 * 3600));
        // Dates in the reader's time zone, both languages; the age in words in both.
        let expected = format!(
            "Status as of: {} (1 ngày 2 giờ trước / 1 day 2 hours ago); danh sách ký lúc / list signed: {}",
            crate::dates::date_time(1_795_421_105),
            crate::dates::date_time(1_795_421_105 - 600),
        );
        assert!(stale.contains(&expected), "{stale}");
        assert!(!stale.contains("GMT"), "{stale}");
        let fresh = verdict_text(&with_status(1_795_421_105, 200));
        assert!(!fresh.contains("Status as of"), "{fresh}");
    }

    /// Issue 14's `representation.valid_until` is Unix seconds: shown as a date, in the
    /// wallet's `show` and in a verdict, with its catalogue label.
    #[test]
    fn a_representations_end_reads_as_a_date() {
        use giayto_core::verifier::{ClaimView, Names};
        use giayto_core::wallet::{ClaimEntry, DocumentView};
        let label = Some(Names {
            vi: "Đại diện đến".into(),
            en: "Representation valid until".into(),
        });
        let doc = DocumentView {
            id: "0123456789abcdef".into(),
            vct: "https://giayto.gov.vn/vct/health_insurance_card".into(),
            name: None,
            issuer: "https://bhxh.gov.vn".into(),
            expires_at: None,
            received_at: 1_795_421_105,
            claims: vec![ClaimEntry {
                path: "representation.valid_until".into(),
                label: label.clone(),
                value: serde_json::json!(1_795_424_705),
            }],
        };
        let expected = format!(
            "  Đại diện đến / Representation valid until: {}\n",
            crate::dates::date_time(1_795_424_705)
        );
        let shown = super::document_text(&doc, true);
        assert!(shown.contains(&expected), "{shown}");
        assert!(!shown.contains("1795424705"), "{shown}");
        let mut verdict = Verdict::refused(FailureCode::Expired, "x");
        verdict.claims = vec![ClaimView {
            path: "representation.valid_until".into(),
            label,
            value: serde_json::json!(1_795_424_705),
        }];
        let shown = verdict_text(&verdict);
        assert!(shown.contains(&expected), "{shown}");
        // Another number stays a number.
        assert_eq!(
            super::value_text("vehicle.seats", &serde_json::json!(7)),
            "7"
        );
    }
}

#[cfg(test)]
mod terminal_tests {
    use super::{TerminalQr, fit_terminal};

    /// Issue 16: at 80 columns the QR was drawn wrapped, without a word.
    #[test]
    fn a_qr_too_large_for_the_terminal_is_not_drawn_and_the_sizes_are_said() {
        let drawing = "█".repeat(89) + "\n" + &("█".repeat(89) + "\n").repeat(44);
        assert_eq!(
            fit_terminal(drawing.clone(), Some((60, 200))),
            TerminalQr::Fits(drawing.clone())
        );
        assert_eq!(
            fit_terminal(drawing.clone(), None),
            TerminalQr::Fits(drawing.clone())
        );
        let TerminalQr::TooSmall(message) = fit_terminal(drawing, Some((24, 80))) else {
            panic!("drawn in 80 columns");
        };
        assert!(
            message.contains("80 columns × 24 rows; it needs 89 × 45"),
            "{message}"
        );
    }
}
