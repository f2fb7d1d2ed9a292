//! Claims in the catalogue's order: a credential's disclosures arrive in digest order (and
//! the issuer's JSON in any order), so what a person reads is put back in the order the
//! document type lists its claims, at every level (the members of `age_equal_or_over`, 14
//! to 60; each driving privilege's class before its dates). Members the type does not list
//! come last, in their own order.

use serde_json::{Map, Value};

use super::DocumentType;
use super::schema::{ClaimKind, ClaimSpec};

impl DocumentType {
    /// `claims` with every object's members in this type's catalogue order, recursively
    /// (through objects and the elements of lists); values are not changed.
    pub fn in_catalogue_order(&self, claims: &Map<String, Value>) -> Map<String, Value> {
        self.into_catalogue_order(claims.clone())
    }

    /// As [`Self::in_catalogue_order`], moving the claims instead of copying them (the
    /// verifier's path, which owns what it processed).
    pub fn into_catalogue_order(&self, claims: Map<String, Value>) -> Map<String, Value> {
        order_object(self.claims, claims)
    }

    /// As [`Self::into_catalogue_order`], for the members `members` yields (a filtered
    /// map, ordered without first being collected into a map of its own).
    pub(crate) fn members_in_catalogue_order(
        &self,
        members: impl Iterator<Item = (String, Value)>,
    ) -> Map<String, Value> {
        order_members(self.claims, members)
    }
}

/// Where `name` is in `specs` (`usize::MAX` when the type does not list it).
fn position(specs: &[ClaimSpec], name: &str) -> usize {
    specs
        .iter()
        .position(|spec| spec.name == name)
        .unwrap_or(usize::MAX)
}

fn order_object(specs: &[ClaimSpec], mut map: Map<String, Value>) -> Map<String, Value> {
    // Already in order (as members often are): ordered in place, no new map built.
    if map.keys().map(|name| position(specs, name)).is_sorted() {
        for (name, value) in map.iter_mut() {
            let kind = specs.get(position(specs, name)).map(|spec| &spec.kind);
            *value = order_value(kind, std::mem::take(value));
        }
        return map;
    }
    order_members(specs, map.into_iter())
}

fn order_members(
    specs: &[ClaimSpec],
    members: impl Iterator<Item = (String, Value)>,
) -> Map<String, Value> {
    let mut members: Vec<(usize, String, Value)> = members
        .map(|(name, value)| (position(specs, &name), name, value))
        .collect();
    // Stable: members the type does not list keep their own order, after the others.
    members.sort_by_key(|(position, _, _)| *position);
    members
        .into_iter()
        .map(|(position, name, value)| {
            let kind = specs.get(position).map(|spec| &spec.kind);
            (name, order_value(kind, value))
        })
        .collect()
}

fn order_value(kind: Option<&ClaimKind>, value: Value) -> Value {
    match (kind, value) {
        (Some(ClaimKind::Object(specs)), Value::Object(map)) => {
            Value::Object(order_object(specs, map))
        }
        (Some(ClaimKind::List(list)), Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|item| order_value(Some(&list.item), item))
                .collect(),
        ),
        (_, value) => value,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::catalogue;

    /// Issue 16: `wallet show` listed valid-until before valid-from and the ages 16, 60, 21,
    /// 14, 18.
    #[test]
    fn members_follow_the_catalogue_at_every_level() {
        let card = catalogue::by_id("health_insurance_card").unwrap();
        let jumbled = json!({
            "valid_until": "2026-12-31",
            "age_equal_or_over": {"16": true, "60": false, "21": true, "14": true, "18": true},
            "not_in_the_catalogue": 1,
            "valid_from": "2026-01-01",
        });
        let ordered = card.in_catalogue_order(jumbled.as_object().unwrap());
        let keys: Vec<&str> = ordered.keys().map(String::as_str).collect();
        let from = keys.iter().position(|k| *k == "valid_from").unwrap();
        let until = keys.iter().position(|k| *k == "valid_until").unwrap();
        assert!(from < until, "{keys:?}");
        assert_eq!(keys.last(), Some(&"not_in_the_catalogue"));
        let ages: Vec<&str> = ordered["age_equal_or_over"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(ages, ["14", "16", "18", "21", "60"]);
    }
}
