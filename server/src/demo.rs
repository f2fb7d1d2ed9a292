//! Demo mode: on an empty database, a trust anchor and three agencies (police; justice;
//! social insurance) with one API key each, printed once by the caller.

use giayto_core::jose::Algorithm;

use crate::domain::agencies::{self, Agency, NewApiKey};
use crate::domain::{DomainResult, Services, trust};

/// The demo agencies: id, Vietnamese and English names, document type ids.
pub const DEMO_AGENCIES: [(&str, &str, &str, &[&str]); 3] = [
    (
        "police",
        "Bộ Công an",
        "Ministry of Public Security",
        &["can_cuoc", "driving_licence", "vehicle_registration"],
    ),
    (
        "justice",
        "Bộ Tư pháp",
        "Ministry of Justice",
        &["judicial_record"],
    ),
    (
        "social-insurance",
        "Bảo hiểm xã hội Việt Nam",
        "Vietnam Social Security",
        &["health_insurance_card", "health_book"],
    ),
];

/// Seeds the demo when no agency exists; returns each agency with its new API key, or an
/// empty list when the database already had agencies.
pub async fn seed(services: &Services) -> DomainResult<Vec<(Agency, NewApiKey)>> {
    trust::ensure_anchor(services).await?;
    if !agencies::list_agencies(services).await?.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (id, vi, en, types) in DEMO_AGENCIES {
        let allowed_vcts = types
            .iter()
            .filter_map(|t| giayto_core::catalogue::by_id(t).map(|d| d.vct.to_owned()))
            .collect();
        let agency = Agency {
            id: id.into(),
            name_vi: vi.into(),
            name_en: en.into(),
            allowed_vcts,
        };
        agencies::add_agency(services, &agency, Algorithm::Es256).await?;
        let key = agencies::create_api_key(services, id, "demo").await?;
        out.push((agency, key));
    }
    trust::publish(services).await?;
    Ok(out)
}
