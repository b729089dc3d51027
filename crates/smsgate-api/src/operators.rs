//! Operators on the admin API: logging in for a token, one's own tokens
//! (`/admin/v1/me`), managing operators (owners), and the audit log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use smsgate_core::operators::{Actor, Role};
use smsgate_core::{AccountId, OperatorId, OperatorTokenId};
use smsgate_engine::By;
use smsgate_engine::operators::{IssuedOperatorToken, OperatorChanges, OperatorRequest};
use smsgate_engine::records::{AuditAction, AuditEntry, AuditFilter, Operator, OperatorToken};
use smsgate_engine::sessions::LoginRefusal;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{Admin, ClientAddress, JsonBody, SMALL};
use crate::problem::Problem;
use crate::v1::model::parse_time;
use crate::v1::{cursor, page_limit};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/v1/login", post(login))
        .route("/admin/v1/me", get(me))
        .route(
            "/admin/v1/me/tokens",
            get(own_tokens).post(create_own_token),
        )
        .route("/admin/v1/me/tokens/{id}", delete(revoke_own_token))
        .route(
            "/admin/v1/operators",
            post(create_operator).get(list_operators),
        )
        .route(
            "/admin/v1/operators/{id}",
            get(get_operator).patch(update_operator),
        )
        .route(
            "/admin/v1/operators/{id}/tokens",
            get(operator_tokens).post(create_operator_token),
        )
        .route(
            "/admin/v1/operators/{id}/tokens/{token}",
            delete(revoke_operator_token),
        )
        .route("/admin/v1/audit", get(audit_log))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorView {
    pub id: i64,
    pub name: String,
    /// `owner`, `admin`, `support` or `readonly`.
    #[schema(value_type = String, example = "support")]
    pub role: Role,
    pub has_password: bool,
    pub disabled: bool,
    pub created_at: String,
}

impl From<&Operator> for OperatorView {
    fn from(o: &Operator) -> Self {
        OperatorView {
            id: o.id.0,
            name: o.name.clone(),
            role: o.role,
            has_password: o.password_hash.is_some(),
            disabled: o.disabled,
            created_at: o.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub operator: i64,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    pub label: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Only when it is made: the token. Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<&OperatorToken> for TokenView {
    fn from(t: &OperatorToken) -> Self {
        TokenView {
            id: t.id.0,
            operator: t.operator.0,
            prefix: t.prefix.clone(),
            label: t.label.clone(),
            created_at: t.created_at.to_rfc3339(),
            expires_at: t.expires_at.map(|t| t.to_rfc3339()),
            revoked_at: t.revoked_at.map(|t| t.to_rfc3339()),
            token: None,
        }
    }
}

impl From<IssuedOperatorToken> for TokenView {
    fn from(issued: IssuedOperatorToken) -> Self {
        TokenView {
            token: Some(issued.secret),
            ..TokenView::from(&issued.token)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub data: Vec<TokenView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorList {
    pub data: Vec<OperatorView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub name: String,
    pub password: String,
    /// A label for the token made.
    pub label: Option<String>,
    /// The token ends after this many seconds (1 to a year); default:
    /// when revoked.
    pub expires_in_secs: Option<u64>,
}

/// Logs an operator in: a new token for its name and password. Wrong
/// passwords lock the name and the address out for a while.
#[utoipa::path(post, path = "/admin/v1/login", tag = "admin", request_body = LoginBody,
    responses((status = 201, body = TokenView), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: JsonBody<LoginBody, SMALL>,
) -> Result<(StatusCode, Json<TokenView>), Problem> {
    let b = body.value;
    let issued = state
        .engine
        .operator_login(&b.name, &b.password, b.label, b.expires_in_secs, address)
        .await?;
    match issued {
        Ok(t) => Ok((StatusCode::CREATED, Json(t.into()))),
        Err(LoginRefusal::WrongCredentials | LoginRefusal::AddressNotAllowed) => Err(
            Problem::unauthorized("the operator name or password is wrong"),
        ),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// `admin-token`, `operator` or `cli`.
    #[schema(example = "operator")]
    pub actor: &'static str,
    #[schema(value_type = String, example = "owner")]
    pub role: Option<Role>,
    /// The operator, when it is one.
    pub operator: Option<OperatorView>,
}

/// Who the token is and what its role may do.
#[utoipa::path(get, path = "/admin/v1/me", tag = "admin",
    responses((status = 200, body = MeView)), security(("admin_token" = [])))]
pub async fn me(State(state): State<AppState>, Admin(by): Admin) -> Result<Json<MeView>, Problem> {
    let operator = match by.operator() {
        Some(id) => Some(OperatorView::from(&state.engine.operator(&by, id).await?)),
        None => None,
    };
    Ok(Json(MeView {
        actor: by.actor.kind(),
        role: by.role,
        operator,
    }))
}

/// The operator a `/me` request is for; the admin token has no tokens
/// of its own.
fn me_operator(by: &By) -> Result<OperatorId, Problem> {
    by.operator().ok_or_else(|| {
        Problem::new(
            StatusCode::CONFLICT,
            "not-an-operator",
            "The admin token is not an operator",
            "make an operator (POST /admin/v1/operators) and log in as it for tokens of its own",
        )
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    pub label: Option<String>,
    /// The token ends after this many seconds (1 to a year); default:
    /// when revoked.
    pub expires_in_secs: Option<u64>,
}

/// Your own tokens.
#[utoipa::path(get, path = "/admin/v1/me/tokens", tag = "admin",
    responses((status = 200, body = TokenList), (status = 409, body = Problem)), security(("admin_token" = [])))]
pub async fn own_tokens(
    State(state): State<AppState>,
    Admin(by): Admin,
) -> Result<Json<TokenList>, Problem> {
    let id = me_operator(&by)?;
    token_list(&state, &by, id).await
}

async fn token_list(state: &AppState, by: &By, id: OperatorId) -> Result<Json<TokenList>, Problem> {
    let tokens = state.engine.operator_tokens(by, id).await?;
    Ok(Json(TokenList {
        data: tokens.iter().map(TokenView::from).collect(),
    }))
}

/// A new token of your own (for automation), shown once.
#[utoipa::path(post, path = "/admin/v1/me/tokens", tag = "admin", request_body = NewTokenBody,
    responses((status = 201, body = TokenView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn create_own_token(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: JsonBody<NewTokenBody, SMALL>,
) -> Result<(StatusCode, Json<TokenView>), Problem> {
    let id = me_operator(&by)?;
    new_token(&state, &by, id, body.value).await
}

async fn new_token(
    state: &AppState,
    by: &By,
    id: OperatorId,
    b: NewTokenBody,
) -> Result<(StatusCode, Json<TokenView>), Problem> {
    let issued = state
        .engine
        .create_operator_token(by, id, b.label, b.expires_in_secs)
        .await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Revokes one of your tokens (this one too: its next request is
/// refused).
#[utoipa::path(delete, path = "/admin/v1/me/tokens/{id}", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = TokenView), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn revoke_own_token(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, Problem> {
    let me = me_operator(&by)?;
    revoke(&state, &by, me, &id).await
}

async fn revoke(
    state: &AppState,
    by: &By,
    of: OperatorId,
    id: &str,
) -> Result<Json<TokenView>, Problem> {
    let id = id
        .parse()
        .map(OperatorTokenId)
        .map_err(|_| Problem::not_found("operator token not found"))?;
    let token = state.engine.revoke_operator_token(by, of, id).await?;
    Ok(Json(TokenView::from(&token)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperatorBody {
    pub name: String,
    /// At least 12 characters; none: it logs in with tokens only.
    pub password: Option<String>,
    /// `owner`, `admin`, `support` or `readonly`.
    #[schema(value_type = String, example = "support")]
    pub role: Role,
}

/// A new operator (owners only).
#[utoipa::path(post, path = "/admin/v1/operators", tag = "admin", request_body = NewOperatorBody,
    responses((status = 201, body = OperatorView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn create_operator(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: JsonBody<NewOperatorBody, SMALL>,
) -> Result<(StatusCode, Json<OperatorView>), Problem> {
    let b = body.value;
    let op = state
        .engine
        .create_operator(
            &by,
            OperatorRequest {
                name: b.name,
                password: b.password,
                role: b.role,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(OperatorView::from(&op))))
}

#[utoipa::path(get, path = "/admin/v1/operators", tag = "admin",
    responses((status = 200, body = OperatorList), (status = 403, body = Problem)), security(("admin_token" = [])))]
pub async fn list_operators(
    State(state): State<AppState>,
    Admin(by): Admin,
) -> Result<Json<OperatorList>, Problem> {
    let ops = state.engine.operators(&by).await?;
    Ok(Json(OperatorList {
        data: ops.iter().map(OperatorView::from).collect(),
    }))
}

fn operator_id(id: &str) -> Result<OperatorId, Problem> {
    id.parse()
        .map(OperatorId)
        .map_err(|_| Problem::not_found("operator not found"))
}

#[utoipa::path(get, path = "/admin/v1/operators/{id}", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = OperatorView), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn get_operator(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
) -> Result<Json<OperatorView>, Problem> {
    let op = state.engine.operator(&by, operator_id(&id)?).await?;
    Ok(Json(OperatorView::from(&op)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorPatchBody {
    #[schema(value_type = Option<String>, example = "admin")]
    pub role: Option<Role>,
    /// A new password (at least 12 characters); null: none.
    #[serde(default, with = "crate::admin::double_option")]
    #[schema(value_type = Option<String>)]
    pub password: Option<Option<String>>,
    /// A disabled operator's tokens and password are refused.
    pub disabled: Option<bool>,
}

/// Changes an operator's role, password or whether it is disabled. The
/// last active owner cannot be demoted or disabled.
#[utoipa::path(patch, path = "/admin/v1/operators/{id}", tag = "admin", params(("id" = i64, Path)),
    request_body = OperatorPatchBody,
    responses((status = 200, body = OperatorView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn update_operator(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<OperatorPatchBody, SMALL>,
) -> Result<Json<OperatorView>, Problem> {
    let b = body.value;
    let op = state
        .engine
        .update_operator(
            &by,
            operator_id(&id)?,
            OperatorChanges {
                role: b.role,
                password: b.password,
                disabled: b.disabled,
            },
        )
        .await?;
    Ok(Json(OperatorView::from(&op)))
}

#[utoipa::path(get, path = "/admin/v1/operators/{id}/tokens", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = TokenList), (status = 403, body = Problem)), security(("admin_token" = [])))]
pub async fn operator_tokens(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
) -> Result<Json<TokenList>, Problem> {
    let id = operator_id(&id)?;
    state.engine.operator(&by, id).await?;
    token_list(&state, &by, id).await
}

/// A token for an operator (an owner's act: for an automation
/// operator, say), shown once.
#[utoipa::path(post, path = "/admin/v1/operators/{id}/tokens", tag = "admin", params(("id" = i64, Path)),
    request_body = NewTokenBody,
    responses((status = 201, body = TokenView), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn create_operator_token(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<NewTokenBody, SMALL>,
) -> Result<(StatusCode, Json<TokenView>), Problem> {
    let id = operator_id(&id)?;
    new_token(&state, &by, id, body.value).await
}

#[utoipa::path(delete, path = "/admin/v1/operators/{id}/tokens/{token}", tag = "admin",
    params(("id" = i64, Path), ("token" = i64, Path)),
    responses((status = 200, body = TokenView), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn revoke_operator_token(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path((id, token)): Path<(String, String)>,
) -> Result<Json<TokenView>, Problem> {
    let id = operator_id(&id)?;
    revoke(&state, &by, id, &token).await
}

// --- the audit log -------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Also the cursor of the entries older than it.
    pub id: i64,
    pub at: String,
    /// `admin-token`, `operator`, `account` (a customer's key) or `cli`.
    #[schema(example = "operator")]
    pub actor: &'static str,
    /// The operator's or the account's id.
    pub actor_id: Option<i64>,
    /// The customer's API key.
    pub key_id: Option<i64>,
    /// The client's address.
    pub address: Option<String>,
    #[schema(example = "price.set")]
    pub action: &'static str,
    /// The account the change concerns.
    pub account: Option<i64>,
    #[schema(example = "plan 3")]
    pub subject: Option<String>,
    /// What was changed, before and after, secrets shown as
    /// `"[redacted]"`.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            id: e.id,
            at: e.at.to_rfc3339(),
            actor: e.actor.kind(),
            actor_id: e.actor.id(),
            key_id: e.actor.key().map(|k| k.0),
            address: e.address,
            action: e.action.as_str(),
            account: e.account.map(|a| a.0),
            subject: e.subject,
            before: e.before,
            after: e.after,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub data: Vec<AuditView>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Made at or after this RFC 3339 time.
    since: Option<String>,
    /// Made before this RFC 3339 time.
    until: Option<String>,
    /// Who: `admin-token`, `cli`, `operator`, `operator:ID`, `account`,
    /// `account:ID`.
    actor: Option<String>,
    /// Only these actions, separated by commas (`account.update`,
    /// `price.set`, …).
    action: Option<String>,
    /// Changes concerning this account.
    account: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<usize>,
}

fn audit_filter(q: AuditQuery) -> Result<(AuditFilter, usize), Problem> {
    let limit = page_limit(q.limit)?;
    let bad_actor = || {
        Problem::invalid_field(
            "actor",
            "one of admin-token, cli, operator, operator:ID, account, account:ID",
        )
    };
    let (actor_kind, actor_id) = match q.actor.as_deref() {
        None => (None, None),
        Some(a) => {
            let (kind, id) = match a.split_once(':') {
                Some((k, id)) => (k, Some(id.parse::<i64>().map_err(|_| bad_actor())?)),
                None => (a, None),
            };
            let kind = [
                Actor::AdminToken.kind(),
                Actor::Cli.kind(),
                "operator",
                "account",
            ]
            .into_iter()
            .find(|k| *k == kind)
            .ok_or_else(bad_actor)?;
            if id.is_some() && !matches!(kind, "operator" | "account") {
                return Err(bad_actor());
            }
            (Some(kind), id)
        }
    };
    let actions = match q.action.as_deref() {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|a| {
                AuditAction::parse(a.trim()).ok_or_else(|| {
                    let known: Vec<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                    Problem::invalid_field(
                        "action",
                        format!("{a:?} is not an action; known: {}", known.join(", ")),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    Ok((
        AuditFilter {
            before: cursor(q.cursor.as_deref())?,
            since: parse_time("since", q.since.as_deref())?,
            until: parse_time("until", q.until.as_deref())?,
            actor_kind,
            actor_id,
            actions,
            account: q.account.map(AccountId),
            // One more tells whether there is a next page.
            limit: limit + 1,
        },
        limit,
    ))
}

/// The audit log: every change by an operator, the admin token, a
/// customer's key or the command line, newest first.
#[utoipa::path(get, path = "/admin/v1/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 422, body = Problem)), security(("admin_token" = [])))]
pub async fn audit_log(
    State(state): State<AppState>,
    Admin(by): Admin,
    query: Result<axum::extract::Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, Problem> {
    let axum::extract::Query(q) =
        query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    let (filter, limit) = audit_filter(q)?;
    let mut rows = state.engine.audit_log(&by, filter).await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Json(AuditPage {
        data: rows.into_iter().map(AuditView::from).collect(),
        next_cursor,
    }))
}
