//! The OpenAPI 3 document of `/api/v1`, built from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{audit, outreach, payments, payroll, points, register, reports, session, users};
use crate::error::{ErrorBody, ErrorDetail};
use crate::json::Json;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "A browser session; changes also send its CSRF token in the x-csrf-token header.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chitra",
        description = "Chi trả trợ cấp xã hội qua bưu điện — the payment service of chitra: the register, the monthly payroll, payments at the points and at home, settlement and audit. Every error is `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    paths(
        session::healthz,
        session::login,
        session::logout,
        session::me,
        session::issue_token,
        users::list,
        users::add,
        register::offices,
        register::list,
        register::file,
        register::add,
        register::add_decision,
        points::list,
        points::add,
        points::schedules,
        points::set_schedule,
        points::assign,
        points::flags,
        outreach::set_phone,
        outreach::queue,
        outreach::list,
        outreach::lookup,
        payroll::contracts,
        payroll::add_contract,
        payroll::list,
        payroll::generate,
        payroll::show,
        payroll::lines,
        payroll::differences,
        payroll::approve,
        payroll::fund,
        payroll::open,
        payroll::close,
        payroll::line,
        payroll::reviews,
        payments::record_one,
        payments::record_batch,
        reports::settlement,
        reports::reconcile,
        reports::summary,
        reports::balances,
        audit::verify,
        audit::log,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Security),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
