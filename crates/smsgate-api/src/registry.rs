//! Sender IDs and content templates over HTTP: registered by the account
//! (`/v1/senders`, `/v1/templates`) or by the operator for it
//! (`/admin/v1/accounts/{id}/senders|templates`), pending until the
//! operator approves them (`/admin/v1/senders|templates/{id}/approve`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use smsgate_core::kinds::Approval;
use smsgate_core::{AccountId, Category, Timestamp};
use smsgate_engine::By;
use smsgate_engine::Caller;
use smsgate_engine::records::{SenderRecord, TemplateRecord};
use utoipa::ToSchema;

use crate::AppState;
use crate::admin::account_id;
use crate::extract::{Admin, JsonBody, SMALL};
use crate::problem::Problem;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/senders", get(own_senders).post(own_sender))
        .route("/v1/templates", get(own_templates).post(own_template))
        .route(
            "/admin/v1/accounts/{id}/senders",
            get(account_senders).post(account_sender),
        )
        .route(
            "/admin/v1/accounts/{id}/templates",
            get(account_templates).post(account_template),
        )
        .route("/admin/v1/senders/{id}/approve", post(approve_sender))
        .route("/admin/v1/templates/{id}/approve", post(approve_template))
}

fn approval(a: Approval) -> &'static str {
    match a {
        Approval::Pending => "pending",
        Approval::Approved => "approved",
    }
}

fn category(field: &str, value: Option<&str>) -> Result<Category, Problem> {
    match value {
        None => Ok(Category::default()),
        Some(v) => Category::parse(&v.trim().to_ascii_lowercase()).ok_or_else(|| {
            Problem::invalid_field(field, "must be transactional, promotional or otp")
        }),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSenderBody {
    /// Up to 11 letters and digits, or a number of up to 15 digits.
    #[schema(example = "ACME")]
    pub sender_id: String,
    /// `transactional` (default), `promotional` or `otp`.
    pub category: Option<String>,
    #[schema(example = "Order notifications")]
    pub purpose: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SenderView {
    /// Opaque (`sd_` and 32 hex digits); never reused.
    pub id: String,
    pub account_id: i64,
    pub sender_id: String,
    pub category: String,
    pub purpose: Option<String>,
    /// `pending` until an operator approves it, then `approved`.
    pub status: String,
    pub created_at: String,
    pub approved_at: Option<String>,
}

impl From<&SenderRecord> for SenderView {
    fn from(s: &SenderRecord) -> Self {
        SenderView {
            id: s.id.to_string(),
            account_id: s.account_id.0,
            sender_id: s.sender_id.clone(),
            category: s.category.as_str().into(),
            purpose: s.purpose.clone(),
            status: approval(s.status).into(),
            created_at: s.created_at.to_rfc3339(),
            approved_at: s.approved_at.map(Timestamp::to_rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SenderList {
    pub data: Vec<SenderView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTemplateBody {
    #[schema(example = "OTP")]
    pub name: String,
    /// The id messages name the template by (a DLT template id).
    #[schema(example = "1107161234567890123")]
    pub template_id: String,
    pub category: Option<String>,
    /// The registered sender ID it may only be sent from.
    pub sender_id: Option<String>,
    /// The text, each `{#var#}` a variable part of 1 to 30 characters.
    #[schema(example = "Your OTP is {#var#}. Do not share it.")]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    /// Opaque (`tp_` and 32 hex digits); never reused.
    pub id: String,
    pub account_id: i64,
    pub name: String,
    pub template_id: String,
    pub category: String,
    pub sender_id: Option<String>,
    pub text: String,
    pub status: String,
    pub created_at: String,
    pub approved_at: Option<String>,
}

impl From<&TemplateRecord> for TemplateView {
    fn from(t: &TemplateRecord) -> Self {
        TemplateView {
            id: t.id.to_string(),
            account_id: t.account_id.0,
            name: t.name.clone(),
            template_id: t.template_id.clone(),
            category: t.category.as_str().into(),
            sender_id: t.sender_id.clone(),
            text: t.text.clone(),
            status: approval(t.status).into(),
            created_at: t.created_at.to_rfc3339(),
            approved_at: t.approved_at.map(Timestamp::to_rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub data: Vec<TemplateView>,
}

async fn create_sender(
    state: &AppState,
    by: &By,
    account: AccountId,
    b: NewSenderBody,
) -> Result<(StatusCode, Json<SenderView>), Problem> {
    let category = category("category", b.category.as_deref())?;
    let s = state
        .engine
        .register_sender(by, account, &b.sender_id, category, b.purpose)
        .await?;
    Ok((StatusCode::CREATED, Json(SenderView::from(&s))))
}

async fn list_senders(state: &AppState, account: AccountId) -> Result<Json<SenderList>, Problem> {
    let senders = state.engine.senders(account).await?;
    Ok(Json(SenderList {
        data: senders.iter().map(SenderView::from).collect(),
    }))
}

async fn create_template(
    state: &AppState,
    by: &By,
    account: AccountId,
    b: NewTemplateBody,
) -> Result<(StatusCode, Json<TemplateView>), Problem> {
    let category = category("category", b.category.as_deref())?;
    let t = state
        .engine
        .register_template(
            by,
            account,
            smsgate_engine::registry::TemplateRequest {
                name: &b.name,
                template_id: &b.template_id,
                category,
                sender_id: b.sender_id.as_deref(),
                text: &b.text,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(TemplateView::from(&t))))
}

async fn list_templates(
    state: &AppState,
    account: AccountId,
) -> Result<Json<TemplateList>, Problem> {
    let templates = state.engine.admin().templates(account).await?;
    Ok(Json(TemplateList {
        data: templates.iter().map(TemplateView::from).collect(),
    }))
}

/// Register a sender ID for the account; it is `pending` until approved.
#[utoipa::path(post, path = "/v1/senders", tag = "senders and templates", request_body = NewSenderBody,
    responses((status = 201, body = SenderView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn own_sender(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewSenderBody, SMALL>,
) -> Result<(StatusCode, Json<SenderView>), Problem> {
    create_sender(&state, &By::customer(&caller), caller.account, body.value).await
}

/// The account's sender IDs.
#[utoipa::path(get, path = "/v1/senders", tag = "senders and templates",
    responses((status = 200, body = SenderList)), security(("api_key" = [])))]
pub async fn own_senders(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SenderList>, Problem> {
    list_senders(&state, caller.account).await
}

/// Register a content template for the account; `pending` until approved.
#[utoipa::path(post, path = "/v1/templates", tag = "senders and templates", request_body = NewTemplateBody,
    responses((status = 201, body = TemplateView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn own_template(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewTemplateBody, SMALL>,
) -> Result<(StatusCode, Json<TemplateView>), Problem> {
    create_template(&state, &By::customer(&caller), caller.account, body.value).await
}

/// The account's content templates.
#[utoipa::path(get, path = "/v1/templates", tag = "senders and templates",
    responses((status = 200, body = TemplateList)), security(("api_key" = [])))]
pub async fn own_templates(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TemplateList>, Problem> {
    list_templates(&state, caller.account).await
}

/// Register a sender ID for an account.
#[utoipa::path(post, path = "/admin/v1/accounts/{id}/senders", tag = "admin", request_body = NewSenderBody,
    params(("id" = i64, Path)),
    responses((status = 201, body = SenderView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn account_sender(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<NewSenderBody, SMALL>,
) -> Result<(StatusCode, Json<SenderView>), Problem> {
    create_sender(&state, &by, account_id(&id)?, body.value).await
}

#[utoipa::path(get, path = "/admin/v1/accounts/{id}/senders", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = SenderList)),
    security(("admin_token" = [])))]
pub async fn account_senders(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<SenderList>, Problem> {
    list_senders(&state, account_id(&id)?).await
}

/// Register a content template for an account.
#[utoipa::path(post, path = "/admin/v1/accounts/{id}/templates", tag = "admin", request_body = NewTemplateBody,
    params(("id" = i64, Path)),
    responses((status = 201, body = TemplateView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn account_template(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<NewTemplateBody, SMALL>,
) -> Result<(StatusCode, Json<TemplateView>), Problem> {
    create_template(&state, &by, account_id(&id)?, body.value).await
}

#[utoipa::path(get, path = "/admin/v1/accounts/{id}/templates", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = TemplateList)),
    security(("admin_token" = [])))]
pub async fn account_templates(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<TemplateList>, Problem> {
    list_templates(&state, account_id(&id)?).await
}

/// Approve a sender ID.
#[utoipa::path(post, path = "/admin/v1/senders/{id}/approve", tag = "admin",
    params(("id" = String, Path)), responses((status = 200, body = SenderView), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn approve_sender(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
) -> Result<Json<SenderView>, Problem> {
    let s = state.engine.approve_sender(&by, &id).await?;
    Ok(Json(SenderView::from(&s)))
}

/// Approve a content template.
#[utoipa::path(post, path = "/admin/v1/templates/{id}/approve", tag = "admin",
    params(("id" = String, Path)), responses((status = 200, body = TemplateView), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn approve_template(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
) -> Result<Json<TemplateView>, Problem> {
    let t = state.engine.approve_template(&by, &id).await?;
    Ok(Json(TemplateView::from(&t)))
}
