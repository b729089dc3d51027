//! Campaigns and their subscribers. An account with "enforce campaign
//! check" only sends to numbers subscribed to the campaign a send names
//! (`campaign_ref`; the action dialect's `campaign-ref`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use smsgate_engine::Caller;
use smsgate_engine::records::Campaign;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{JsonBody, SMALL};
use crate::problem::Problem;
use crate::v1::optout::ImportView;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// The reference sends name it by.
    #[serde(rename = "ref")]
    #[schema(example = "campaign2345")]
    pub reference: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    #[serde(rename = "ref")]
    pub reference: String,
    pub name: Option<String>,
    pub subscribers: u64,
    pub created_at: String,
}

impl From<&Campaign> for CampaignView {
    fn from(c: &Campaign) -> Self {
        CampaignView {
            reference: c.reference.clone(),
            name: c.name.clone(),
            subscribers: c.subscribers,
            created_at: c.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignList {
    pub data: Vec<CampaignView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Numbers {
    #[schema(example = json!(["+31612345678"]))]
    pub numbers: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubscriberQuery {
    cursor: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberPage {
    pub data: Vec<String>,
    pub next_cursor: Option<String>,
}

/// Create a campaign.
#[utoipa::path(post, path = "/v1/campaigns", tag = "campaigns", request_body = NewCampaign,
    responses((status = 201, body = CampaignView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewCampaign, SMALL>,
) -> Result<(StatusCode, Json<CampaignView>), Problem> {
    let b = body.value;
    let c = state
        .engine
        .create_campaign(caller.account, &b.reference, b.name)
        .await?;
    Ok((StatusCode::CREATED, Json(CampaignView::from(&c))))
}

/// The account's campaigns, with their number of subscribers.
#[utoipa::path(get, path = "/v1/campaigns", tag = "campaigns",
    responses((status = 200, body = CampaignList)), security(("api_key" = [])))]
pub async fn list_campaigns(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CampaignList>, Problem> {
    let campaigns = state.engine.campaigns(&caller).await?;
    Ok(Json(CampaignList {
        data: campaigns.iter().map(CampaignView::from).collect(),
    }))
}

/// Subscribe numbers to a campaign.
#[utoipa::path(post, path = "/v1/campaigns/{ref}/subscribers", tag = "campaigns", request_body = Numbers,
    params(("ref" = String, Path)),
    responses((status = 200, body = ImportView), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
    body: JsonBody<Numbers, SMALL>,
) -> Result<Json<ImportView>, Problem> {
    let outcome = state
        .engine
        .change_subscribers(&caller, &reference, &body.value.numbers, true)
        .await?;
    Ok(Json(outcome.into()))
}

/// Unsubscribe a number from a campaign.
#[utoipa::path(delete, path = "/v1/campaigns/{ref}/subscribers/{number}", tag = "campaigns",
    params(("ref" = String, Path), ("number" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path((reference, number)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let outcome = state
        .engine
        .change_subscribers(&caller, &reference, std::slice::from_ref(&number), false)
        .await?;
    if let Some(bad) = outcome.invalid.first() {
        return Err(Problem::invalid_field("number", bad.reason.clone()));
    }
    if outcome.added == 0 {
        return Err(Problem::not_found(format!(
            "{number} is not subscribed to {reference:?}"
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A campaign's subscribers, in number order.
#[utoipa::path(get, path = "/v1/campaigns/{ref}/subscribers", tag = "campaigns",
    params(("ref" = String, Path), SubscriberQuery),
    responses((status = 200, body = SubscriberPage), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn subscribers(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
    query: Result<Query<SubscriberQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SubscriberPage>, Problem> {
    let Query(q) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    let limit = super::page_limit(q.limit)?;
    let mut rows = state
        .engine
        .subscribers(&caller, &reference, q.cursor, limit + 1)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no campaign {reference:?}")))?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().cloned()
    } else {
        None
    };
    Ok(Json(SubscriberPage {
        data: rows,
        next_cursor,
    }))
}
