//! The JOSE `typ` header compared as a media type (RFC 7515 section 4.1.9, RFC 2045
//! section 5.1): one rule for every explicitly typed token giayto reads (`dc+sd-jwt`,
//! `kb+jwt`, `statuslist+jwt`, `trustlist+jwt`, `openid4vci-proof+jwt`).
//!
//! RFC 7515 section 4.1.9: "the "application/" prefix ... MAY be omitted" and recipients
//! "MUST treat it as if "application/" were prepended to any "typ" value not containing a
//! '/'"; RFC 2045 section 5.1: type and subtype names are case-insensitive. So
//! `dc+sd-jwt`, `DC+SD-JWT` and `Application/dc+sd-jwt` all name the same type. Media type
//! parameters (`; charset=...`) are not part of any type giayto expects and are refused.
//! Tokens giayto writes always use the short lowercase form.

/// Whether the `typ` header value `typ` names the media type `application/<expected>`
/// (`expected` written without the `application/` prefix, lowercase). `None` (no `typ`)
/// never matches: every type giayto checks is REQUIRED by its specification.
pub fn typ_matches(typ: Option<&str>, expected: &str) -> bool {
    let Some(typ) = typ else {
        return false;
    };
    let subtype = match typ.split_once('/') {
        Some((top, subtype)) if top.eq_ignore_ascii_case("application") => subtype,
        Some(_) => return false,
        None => typ,
    };
    subtype.eq_ignore_ascii_case(expected)
}

/// How a `typ` header is named in an error message: `typ "JWT"` (attacker-chosen text kept
/// short) or `no typ`, never Rust's `Some(..)`/`None`.
pub fn shown_typ(typ: Option<&str>) -> String {
    match typ {
        Some(t) => format!("typ \"{}\"", super::truncate(t).escape_debug()),
        None => "no typ".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{shown_typ, typ_matches};

    #[test]
    fn errors_name_the_typ_as_people_read_it() {
        assert_eq!(shown_typ(Some("vc+sd-jwt")), "typ \"vc+sd-jwt\"");
        assert_eq!(shown_typ(None), "no typ");
        assert_eq!(shown_typ(Some("a\"b")), "typ \"a\\\"b\"");
    }

    #[test]
    fn rfc_7515_rule() {
        for same in [
            "kb+jwt",
            "KB+JWT",
            "application/kb+jwt",
            "Application/Kb+Jwt",
        ] {
            assert!(typ_matches(Some(same), "kb+jwt"), "{same}");
        }
        for other in [
            "jwt",
            "kb+jwt ",
            "text/kb+jwt",
            "application/kb+jwt; x=1",
            "application/application/kb+jwt",
            "",
        ] {
            assert!(!typ_matches(Some(other), "kb+jwt"), "{other}");
        }
        assert!(!typ_matches(None, "kb+jwt"));
    }
}
