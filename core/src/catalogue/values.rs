//! Values for people in both languages: booleans and the catalogue's enumerations whose
//! values are words (sex, vehicle type). Codes that read the same in both languages
//! (licence classes, blood groups, area codes) have no names. Machine output keeps the
//! values themselves.

use serde_json::Value;

use super::Label;

/// The names of enumeration values that are English words, in Vietnamese and English.
const ENUMERATIONS: [(&str, Label); 12] = [
    (
        "guardian",
        Label {
            vi: "người giám hộ",
            en: "guardian",
        },
    ),
    (
        "male",
        Label {
            vi: "nam",
            en: "male",
        },
    ),
    (
        "female",
        Label {
            vi: "nữ",
            en: "female",
        },
    ),
    (
        "motorcycle",
        Label {
            vi: "xe mô tô",
            en: "motorcycle",
        },
    ),
    (
        "moped",
        Label {
            vi: "xe gắn máy",
            en: "moped",
        },
    ),
    (
        "car",
        Label {
            vi: "ô tô",
            en: "car",
        },
    ),
    (
        "truck",
        Label {
            vi: "ô tô tải",
            en: "truck",
        },
    ),
    (
        "bus",
        Label {
            vi: "ô tô khách",
            en: "bus",
        },
    ),
    (
        "tractor",
        Label {
            vi: "máy kéo",
            en: "tractor",
        },
    ),
    (
        "trailer",
        Label {
            vi: "rơ moóc",
            en: "trailer",
        },
    ),
    (
        "semi_trailer",
        Label {
            vi: "sơ mi rơ moóc",
            en: "semi-trailer",
        },
    ),
    (
        "special_purpose",
        Label {
            vi: "xe chuyên dùng",
            en: "special-purpose vehicle",
        },
    ),
];

/// Every enumeration value that has names, with its names (what [`value_names`] gives for
/// a string), for a page that shows values itself (the verifier desk).
pub fn enumeration_names() -> &'static [(&'static str, Label)] {
    &ENUMERATIONS
}

/// The Vietnamese and English names of a claim value, when it has some: `true` and
/// `false` (`có` / `yes`, `không` / `no`) and the enumeration values that are words.
/// `None` for any other value (text, dates, numbers, codes).
pub fn value_names(value: &Value) -> Option<Label> {
    match value {
        Value::Bool(true) => Some(Label {
            vi: "có",
            en: "yes",
        }),
        Value::Bool(false) => Some(Label {
            vi: "không",
            en: "no",
        }),
        Value::String(s) => ENUMERATIONS
            .iter()
            .find(|(value, _)| value == s)
            .map(|(_, label)| *label),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalogue;

    #[test]
    fn booleans_and_word_enumerations_have_names_codes_do_not() {
        assert_eq!(value_names(&json!(false)).map(|l| l.vi), Some("không"));
        assert_eq!(value_names(&json!(true)).map(|l| l.en), Some("yes"));
        assert_eq!(value_names(&json!("female")).map(|l| l.vi), Some("nữ"));
        assert_eq!(value_names(&json!("B")), None);
        assert_eq!(value_names(&json!("1990-02-28")), None);
    }

    /// Every word value of the catalogue's enumerations has its names.
    #[test]
    fn every_vehicle_type_and_sex_is_named() {
        let words = catalogue::vehicle_registration::VEHICLE_TYPES.iter();
        // The `representation` claim's type, too.
        for value in words.chain(["male", "female", "guardian"].iter()) {
            assert!(value_names(&json!(value)).is_some(), "{value}");
        }
    }
}
