//! JSON in and out. The body is parsed into the handler's typed request at the edge; what cannot be
//! parsed is refused with the path of the field at fault (`payments[3].amount`) and why.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A JSON body: parsed with field-level errors on the way in, serialised on the way out.
///
/// Handlers that need a role take it as `Result<Json<T>, ApiError>` and check the role before
/// unwrapping it: a caller who may not do a thing gets 403 whatever the body, and learns nothing
/// of what the body should be.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json")
            });
        if !is_json {
            return Err(ApiError::bad_request(
                "content_type",
                "the body must be JSON, sent with Content-Type: application/json",
                Some("Content-Type".to_owned()),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(format!("the body is too large: {e}"))
            } else {
                ApiError::bad_request(
                    "invalid_body",
                    format!("the body could not be read: {e}"),
                    Some("body".to_owned()),
                )
            }
        })?;
        parse(&bytes).map(Json)
    }
}

/// Parses `bytes` as a `T`, naming the field at fault.
/// Every body the API takes is an object: an array is refused, though serde would read one into
/// a struct field by field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        // JSON, but an array, a string, a number, true, false or null.
        return Err(not_an_object("body"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| refusal(&e))?;
    de.end().map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!(
                "the body is not valid JSON: {}",
                strip_position(&e.to_string())
            ),
            Some("body".to_owned()),
        )
    })?;
    if holds_nul(bytes) {
        return Err(nul_refused(bytes));
    }
    Ok(value)
}

/// Whether the body holds JSON's escape for a NUL character, `\u0000` (not `\\u0000`, which is
/// a backslash and text), in one pass over the bytes.
fn holds_nul(bytes: &[u8]) -> bool {
    let mut run = 0usize;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\\' {
            run += 1;
            continue;
        }
        if run % 2 == 1 && bytes[i..].starts_with(b"u0000") {
            return true;
        }
        run = 0;
    }
    false
}

/// The refusal of a body with a NUL character in a text, naming where it is. No text of the
/// product holds one, and PostgreSQL cannot store one at all.
fn nul_refused(bytes: &[u8]) -> ApiError {
    fn find(v: &serde_json::Value, at: &str) -> Option<String> {
        let join = |k: &str| {
            if at.is_empty() {
                k.to_owned()
            } else {
                format!("{at}.{k}")
            }
        };
        match v {
            serde_json::Value::String(s) => s.contains('\0').then(|| at.to_owned()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| find(x, &format!("{at}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
                if k.contains('\0') {
                    Some(join(k))
                } else {
                    find(x, &join(k))
                }
            }),
            _ => None,
        }
    }
    let field = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| find(&v, ""))
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "body".to_owned());
    ApiError::invalid(
        field,
        "contains a NUL character (\\u0000): no text may hold one",
    )
}

/// Parses an already-read JSON value as a `T` (an item of a batch, which is an object), naming
/// the field at fault.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(not_an_object("item"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| refusal(&e))
}

fn not_an_object(field: &str) -> ApiError {
    ApiError::bad_request(
        "wrong_type",
        format!("{field}: a JSON object is expected"),
        Some(field.to_owned()),
    )
}

fn refusal(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    // serde_path_to_error writes `?` for a place it could not name (a syntax error between
    // fields): the path stops at the last part it could.
    let path = e.path().to_string();
    let path = path
        .split('.')
        .take_while(|part| *part != "?")
        .collect::<Vec<_>>()
        .join(".");
    let path = if path == "." { String::new() } else { path };
    let message = inner.to_string();
    if inner.is_syntax() || inner.is_eof() {
        // Where the text broke: in a field's value (a number out of range), or the body itself
        // (cut short, or not JSON at all).
        let field = if path.is_empty() || inner.is_eof() {
            "body".to_owned()
        } else {
            path
        };
        return ApiError::bad_request(
            "invalid_json",
            format!("{field}: not valid JSON: {}", strip_position(&message)),
            Some(field),
        );
    }
    // serde names unknown and missing fields in back-quotes, at the path of the object holding them.
    let quoted = message.split('`').nth(1).map(str::to_owned);
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let (code, field) = if message.starts_with("unknown field") {
        // The path ends with the unknown field's name, except inside a tagged enum (an identity),
        // which serde reads whole before the path can follow it.
        let field = match quoted {
            Some(q) if path != q && !path.ends_with(&format!(".{q}")) => Some(join(&q)),
            _ => Some(path.clone()).filter(|p| !p.is_empty()),
        };
        ("unknown_field", field)
    } else if message.starts_with("missing field") {
        ("missing_field", quoted.map(|q| join(&q)))
    } else if message.starts_with("duplicate field") {
        ("duplicate_field", quoted.map(|q| join(&q)))
    } else if message.starts_with("invalid type")
        || message.starts_with("invalid value")
        || message.starts_with("unknown variant")
    {
        ("wrong_type", Some(path.clone()).filter(|p| !p.is_empty()))
    } else {
        ("invalid", Some(path.clone()).filter(|p| !p.is_empty()))
    };
    let message = match &field {
        Some(f) => format!("{f}: {}", strip_position(&message)),
        None => strip_position(&message).to_owned(),
    };
    ApiError::bad_request(code, message, field)
}

/// serde_json ends its messages with " at line 1 column 42": the field says where already.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// GPS coordinates as a request sends them: an object `{"latitude", "longitude"}`, and only an
/// object (serde's derived structs would also take the array `[10.2, 106.4]`, which the API
/// document does not offer).
#[derive(Debug, Clone, Copy, utoipa::ToSchema)]
pub struct Gps {
    pub latitude: f64,
    pub longitude: f64,
}

impl<'de> Deserialize<'de> for Gps {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Gps, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            latitude: f64,
            longitude: f64,
        }
        let Fields {
            latitude,
            longitude,
        } = object(d)?;
        Ok(Gps {
            latitude,
            longitude,
        })
    }
}

/// A nested object of a request, read only from a JSON object (`#[serde(deserialize_with =
/// "json::object")]`): serde's derived structs and tagged enums also take an array, field by
/// field or tag first, which the API document does not offer. Errors inside keep their path.
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Object::deserialize(d).map(|Object(t)| t)
}

/// A list of nested objects, each read only from a JSON object (see [`object`]).
pub fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    let items: Vec<Object<T>> = Vec::deserialize(d)?;
    Ok(items.into_iter().map(|Object(t)| t).collect())
}

struct Object<T>(T);

struct ObjectOnly<T>(std::marker::PhantomData<T>);

impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
    type Value = Object<T>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectOnly(std::marker::PhantomData))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        amount: i64,
        line_id: i64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Batch {
        payments: Vec<Item>,
    }

    fn field(r: Result<Batch, ApiError>) -> (String, Option<String>) {
        let e = r.unwrap_err();
        let b = e.body();
        (b.error.code.to_owned(), b.error.field)
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Delivery {
        home: Option<Gps>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Assignment {
        code: String,
        #[serde(default)]
        reason: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Proof {
        CitizenId { number: String },
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Assignments {
        #[serde(deserialize_with = "objects")]
        assignments: Vec<Assignment>,
        #[serde(deserialize_with = "object")]
        proof: Proof,
    }

    #[test]
    fn nested_objects_are_objects_only() {
        let read = |body: &str| match parse::<Assignments>(body.as_bytes()) {
            Ok(a) => Ok(a.assignments.len()),
            Err(e) => {
                let b = e.body();
                Err((b.error.code.to_owned(), b.error.field.unwrap_or_default()))
            }
        };
        assert_eq!(
            read(
                r#"{"assignments": [{"code": "A"}, {"code": "B", "reason": "frail"}], "proof": {"kind": "citizen_id", "number": "1"}}"#
            ),
            Ok(2)
        );
        // The derived struct and the tagged enum alone would take these arrays.
        assert_eq!(
            read(
                r#"{"assignments": [{"code": "A"}, ["B", null]], "proof": {"kind": "citizen_id", "number": "1"}}"#
            ),
            Err(("wrong_type".into(), "assignments[1]".into()))
        );
        assert_eq!(
            read(r#"{"assignments": [], "proof": ["citizen_id", "1"]}"#),
            Err(("wrong_type".into(), "proof".into()))
        );
        assert_eq!(
            read(r#"{"assignments": [], "proof": {"kind": "citizen_id", "number": "1", "x": 2}}"#),
            Err(("unknown_field".into(), "proof.x".into()))
        );
        // Errors inside an object keep their path.
        assert_eq!(
            read(
                r#"{"assignments": [{"code": "A", "colour": 1}], "proof": {"kind": "citizen_id", "number": "1"}}"#
            ),
            Err(("unknown_field".into(), "assignments[0].colour".into()))
        );
        assert_eq!(
            read(
                r#"{"assignments": [{"code": 5}], "proof": {"kind": "citizen_id", "number": "1"}}"#
            ),
            Err(("wrong_type".into(), "assignments[0].code".into()))
        );
        assert_eq!(
            read(r#"{"assignments": [{}], "proof": {"kind": "citizen_id", "number": "1"}}"#),
            Err(("missing_field".into(), "assignments[0].code".into()))
        );
    }

    #[test]
    fn coordinates_are_an_object_and_only_one() {
        let ok: Delivery = parse(br#"{"home": {"longitude": 106.4, "latitude": 10.2}}"#).unwrap();
        assert_eq!(
            ok.home.map(|g| (g.latitude, g.longitude)),
            Some((10.2, 106.4))
        );
        let kind = |body: &[u8]| {
            let e = parse::<Delivery>(body).unwrap_err();
            let b = e.body();
            (b.error.code.to_owned(), b.error.field)
        };
        assert_eq!(
            kind(br#"{"home": [10.2, 106.4]}"#),
            ("wrong_type".into(), Some("home".into()))
        );
        assert_eq!(
            kind(br#"{"home": {"latitude": 10.2}}"#),
            ("missing_field".into(), Some("home.longitude".into()))
        );
        assert_eq!(
            kind(br#"{"home": {"latitude": 10.2, "longitude": 1, "alt": 3}}"#),
            ("unknown_field".into(), Some("home.alt".into()))
        );
        assert_eq!(
            kind(br#"{"home": {"latitude": 10.2, "latitude": 1, "longitude": 3}}"#),
            ("duplicate_field".into(), Some("home.latitude".into()))
        );
        assert_eq!(
            kind(br#"{"home": {"latitude": "x", "longitude": 3}}"#),
            ("wrong_type".into(), Some("home.latitude".into()))
        );
    }

    #[test]
    fn a_nul_character_is_refused_where_it_is() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Item {
            id: String,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            name: String,
            items: Vec<Item>,
        }
        let field = |body: &str| match parse::<Body>(body.as_bytes()) {
            Ok(_) => None,
            Err(ApiError::Invalid(e)) => Some(e.field),
            Err(other) => panic!("{other:?}"),
        };
        assert_eq!(field(r#"{"name": "An", "items": [{"id": "a"}]}"#), None);
        assert_eq!(
            field(r#"{"name": "A\u0000n", "items": []}"#).as_deref(),
            Some("name")
        );
        assert_eq!(
            field(r#"{"name": "An", "items": [{"id": "a"}, {"id": "\u0000"}]}"#).as_deref(),
            Some("items[1].id")
        );
        // A backslash, then the text u0000: no NUL.
        assert_eq!(field(r#"{"name": "A\\u0000", "items": []}"#), None);
        // An escaped backslash, then NUL.
        assert_eq!(
            field(r#"{"name": "A\\\u0000", "items": []}"#).as_deref(),
            Some("name")
        );
    }

    #[test]
    fn errors_name_the_field_and_the_kind() {
        assert_eq!(
            field(parse(
                br#"{"payments": [{"amount": 1, "line_id": 2}, {"amount": "x", "line_id": 3}]}"#
            )),
            ("wrong_type".into(), Some("payments[1].amount".into()))
        );
        assert_eq!(
            field(parse(
                br#"{"payments": [{"amount": 1, "line_id": 2, "tip": 5}]}"#
            )),
            ("unknown_field".into(), Some("payments[0].tip".into()))
        );
        assert_eq!(
            field(parse(br#"{"payments": [{"amount": 1}]}"#)),
            ("missing_field".into(), Some("payments[0].line_id".into()))
        );
        assert_eq!(
            field(parse(br#"{"payments": [{"amount": 1,"#)),
            ("invalid_json".into(), Some("body".into()))
        );
        assert_eq!(
            field(parse(br#"{"payments": []} x"#)),
            ("invalid_json".into(), Some("body".into()))
        );
        assert_eq!(
            field(parse(br#"not json"#)),
            ("invalid_json".into(), Some("body".into()))
        );
        assert_eq!(
            field(parse(
                br#"{"payments": [{"amount": 1e999999, "line_id": 2}]}"#
            )),
            ("invalid_json".into(), Some("payments[0].amount".into()))
        );
        assert_eq!(
            field(parse(
                br#"{"payments": [{"amount": 1, "amount": 2, "line_id": 2}]}"#
            )),
            ("duplicate_field".into(), Some("payments[0].amount".into()))
        );
        assert_eq!(
            field(parse(br#" [[]]"#)),
            ("wrong_type".into(), Some("body".into()))
        );
        for scalar in [&b"null"[..], b"0", b"\"AAA\"", b"false"] {
            assert_eq!(
                field(parse(scalar)),
                ("wrong_type".into(), Some("body".into()))
            );
        }
        assert_eq!(
            field(parse(br#"{"payments": [],}"#)),
            ("invalid_json".into(), Some("body".into()))
        );
        assert_eq!(
            field(parse(br#"{"payments": [{"amount": 1,}]}"#)),
            ("invalid_json".into(), Some("payments[0]".into()))
        );
        assert_eq!(
            field(from_value::<Batch>(serde_json::json!([[]]))),
            ("wrong_type".into(), Some("item".into()))
        );
        let ok: Batch = parse(br#"{"payments": []}"#).unwrap();
        assert!(ok.payments.is_empty());
    }
}
