//! Files on an escalation: the logs, screenshots and reports a technician asks for.
//!
//! An upload is the raw body (`application/octet-stream`) with the file's name in `filename`: one
//! file per request, so a generated client sends it as bytes, and the server streams it to the
//! attachment store while it hashes it and judges its kind, without holding it in memory. Limits
//! are checked against `Content-Length` before a byte is read, and again as bytes arrive.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::TAG;
use super::read::visible;
use super::trail::{ActorBody, TrailQuery};
use crate::domain::Role;
use crate::domain::attachment::{
    FILENAME_PATTERN, Filename, MAX_FILENAME_CHARS, MediaType, Refused, Sniffer,
};
use crate::domain::escalation::Status;
use crate::domain::escalation::lifecycle::Side;
use crate::domain::webhook::EventType;
use crate::error::{ApiError, FieldError};
use crate::http::AppState;
use crate::http::auth::{Anyone, Caller};
use crate::http::byte_ranges;
use crate::http::event_data::AttachmentData;
use crate::http::extract::ValidQuery;
use crate::http::idempotency::Idempotency;
use crate::http::pagination::{self, list_type};
use crate::http::responses::*;
use crate::http::webhooks::{describe, notice};
use crate::i18n::Text;
use crate::storage::{StorageError, Upload};
use crate::store::attachments::{self as store, AttachmentRow, NewAttachment, NotAdded, Usage};
use crate::store::escalations::EscalationRow;

fn attachment_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f8-4d5e-7f6a-8b7c-9d0e1f2a3b4c",
        "escalation_id": "0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
        "filename": "bounce-0924.eml",
        "media_type": "text/plain",
        "size_bytes": 18342,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "uploader_role": "partner",
        "uploader": {"kind": "person", "id": "0193a1f3-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "name": "张伟"},
        "created_at": "2026-11-24T03:40:00Z",
        "content_url": "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f/attachments/0193a1f8-4d5e-7f6a-8b7c-9d0e1f2a3b4c/content"
    })
}

/// A file on an escalation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = attachment_example)]
pub struct Attachment {
    pub id: Uuid,
    pub escalation_id: Uuid,
    /// The name it was uploaded with, offered again on download.
    pub filename: String,
    /// The kind judged from the content. Images, PDF and archives are served as this type; text
    /// (`text/plain` and `application/json`) as `text/plain; charset=utf-8`.
    pub media_type: MediaType,
    pub size_bytes: u64,
    /// SHA-256 of the content, in lowercase hexadecimal; also the content's `ETag`.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// Who uploaded it: `partner`, `operator` or `admin`. The uploader's side may remove it
    /// while the escalation is open.
    pub uploader_role: Role,
    /// The person or key that uploaded it.
    pub uploader: ActorBody,
    pub created_at: DateTime<Utc>,
    /// Where the bytes are.
    pub content_url: String,
}

impl TryFrom<AttachmentRow> for Attachment {
    type Error = ApiError;

    fn try_from(row: AttachmentRow) -> Result<Self, ApiError> {
        Ok(Attachment {
            media_type: MediaType::parse(&row.media_type).ok_or_else(|| {
                ApiError::internal(format!("stored media type {}", row.media_type))
            })?,
            uploader_role: row.uploader_role.parse().map_err(ApiError::internal)?,
            uploader: ActorBody::of(row.uploader_id, &row.uploader_kind, row.uploader_name)?,
            size_bytes: u64::try_from(row.size_bytes).map_err(ApiError::internal)?,
            content_url: format!(
                "/v1/escalations/{}/attachments/{}/content",
                row.escalation_id, row.id
            ),
            id: row.id,
            escalation_id: row.escalation_id,
            filename: row.filename,
            sha256: row.sha256,
            created_at: row.created_at,
        })
    }
}

list_type!(
    /// A page of attachments, oldest first.
    AttachmentList of Attachment,
    example = attachment_example
);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name (1–255 characters, no `/`, `\` or control characters, not only dots and
    /// spaces), offered again on download. The kind is judged from the content, never from this name.
    #[param(value_type = FilenameSchema, inline, required = true)]
    pub filename: Option<String>,
}

/// The `filename` parameter's schema: the rule [`Filename::parse`] applies.
pub struct FilenameSchema;

impl utoipa::PartialSchema for FilenameSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_FILENAME_CHARS))
            .pattern(Some(FILENAME_PATTERN))
            .examples([serde_json::json!("bounce-0924.eml")])
            .into()
    }
}

impl utoipa::ToSchema for FilenameSchema {}

/// A download's optional headers.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct RangeHeaders {
    /// One range, such as `bytes=0-1023`, `bytes=1024-` or `bytes=-512`.
    #[param(rename = "Range", value_type = String, required = false)]
    range: Option<String>,
    /// The `ETag`: serve the range only if the content is still this.
    #[param(rename = "If-Range", value_type = String, required = false)]
    if_range: Option<String>,
}

/// The upload's body as the spec declares it: the file's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[allow(dead_code)] Vec<u8>);

fn closed(status: Status) -> ApiError {
    ApiError::Conflict {
        code: "escalation_closed",
        detail: Text::new("problem-escalation-closed").with("status", status.as_str()),
        errors: Vec::new(),
    }
}

fn open_status(escalation: &EscalationRow) -> Result<(), ApiError> {
    match Status::parse(&escalation.status) {
        Some(status) if status.is_open() => Ok(()),
        Some(status) => Err(closed(status)),
        None => Err(ApiError::internal(format!(
            "stored status {}",
            escalation.status
        ))),
    }
}

fn too_many(max_files: u32) -> ApiError {
    ApiError::Unprocessable {
        code: "too_many_attachments",
        detail: Text::new("problem-too-many-attachments").with("max", max_files),
        errors: Vec::new(),
    }
}

/// 413 for a file over `limit` bytes: the per-file limit, or what is left of the escalation's.
pub(crate) fn too_large(state: &AppState, limit: u64) -> ApiError {
    if limit >= state.attachment_max_bytes {
        ApiError::ContentTooLarge {
            code: "attachment_too_large",
            detail: Text::new("problem-attachment-too-large").with("limit", limit),
        }
    } else {
        ApiError::ContentTooLarge {
            code: "attachments_total_too_large",
            detail: Text::new("problem-attachments-total-too-large")
                .with("total", state.attachment_quota.max_total_bytes)
                .with("left", limit),
        }
    }
}

/// What a refusal for lack of room says, given what the escalation holds.
fn no_room(state: &AppState, usage: Usage) -> ApiError {
    match state.attachment_quota.room(usage) {
        None => too_many(state.attachment_quota.max_files),
        Some(left) => too_large(state, left.min(state.attachment_max_bytes)),
    }
}

fn refused(refusal: Refused) -> ApiError {
    let detail = match refusal {
        Refused::Kind(kind) => Text::new("problem-attachment-kind").with("kind", kind),
        Refused::Binary => Text::new("problem-attachment-binary"),
    };
    ApiError::UnsupportedContent {
        code: "unsupported_attachment_type",
        detail,
    }
}

fn empty() -> ApiError {
    ApiError::Unprocessable {
        code: "empty_attachment",
        detail: Text::new("problem-empty-attachment"),
        errors: Vec::new(),
    }
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// A stored file before its row exists.
struct Stored {
    filename: Filename,
    media_type: MediaType,
    size_bytes: u64,
    sha256: [u8; 32],
}

/// Streams the body to `upload` within `limit` bytes, judging and hashing it on the way; on any
/// refusal the upload is abandoned, so nothing of it remains.
async fn store_body(
    state: &AppState,
    mut upload: Upload,
    mut payload: web::Payload,
    filename: Filename,
    limit: u64,
) -> Result<Stored, ApiError> {
    let mut sniffer = Sniffer::default();
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let outcome: Result<(), ApiError> = async {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::bad_request("unreadable_body", Text::new("problem-unreadable-body"))
            })?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(state, limit));
            }
            sniffer.feed(&chunk).map_err(refused)?;
            hasher.update(&chunk);
            upload.write(chunk).await?;
        }
        Ok(())
    }
    .await;
    if let Err(err) = outcome {
        upload.abort().await;
        return Err(err);
    }
    if size == 0 {
        upload.abort().await;
        return Err(empty());
    }
    let media_type = match sniffer.finish(&filename) {
        Ok(kind) => kind,
        Err(refusal) => {
            upload.abort().await;
            return Err(refused(refusal));
        }
    };
    upload.finish().await?;
    Ok(Stored {
        filename,
        media_type,
        size_bytes: size,
        sha256: hasher.finalize().into(),
    })
}

/// Removes an object whose row was not written; housekeeping removes it later if this fails.
async fn discard(state: &AppState, escalation_id: Uuid, attachment_id: Uuid) {
    if let Err(err) = state.attachments.delete(escalation_id, attachment_id).await {
        tracing::warn!(error = %err, %attachment_id, "cannot delete an unrecorded attachment; housekeeping will");
    }
}

fn announce(
    event_type: EventType,
    escalation: &EscalationRow,
    row: &AttachmentRow,
) -> Result<crate::store::webhooks::Notice, sea_orm::DbErr> {
    let attachment = describe(Attachment::try_from(row.clone()))?;
    notice(
        event_type,
        Some(escalation.partner_id),
        AttachmentData {
            escalation_id: escalation.id,
            escalation_number: escalation.number.clone(),
            attachment,
        },
    )
}

/// Attach a file
///
/// Uploads one file to an open escalation, as the raw body, with its name in `filename`. The
/// partner who owns the escalation and 21Vianet's staff may attach files. Accepted kinds, judged
/// from the content, never the name: PNG, JPEG, GIF, WebP and BMP images, PDF, ZIP and gzip
/// archives, and UTF-8 text (logs, `.eml`, CSV), served as `application/json` when named `.json` or
/// `.har` and shaped as JSON. Up to 25 MiB per file and 20 files or 200 MiB per escalation by
/// default; a larger `Content-Length` is refused before the body is read. Send an
/// `Idempotency-Key` to retry safely: the same bytes with the same key answer the first upload.
#[utoipa::path(
    operation_id = "uploadEscalationAttachment",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The escalation's id."), UploadQuery),
    request_body(content = FileBytes, content_type = "application/octet-stream",
        description = "The file's bytes."),
    responses(
        (status = 201, description = "Stored.", body = Attachment,
            headers(("Location" = String, description = "The attachment."))),
        ReadFailures,
        (status = 408, response = RequestTimeout),
        (status = 409, response = EscalationClosed),
        (status = 413, response = AttachmentTooLarge),
        (status = 415, response = UnsupportedAttachment),
        (status = 422, response = AttachmentRefused),
    ),
)]
#[post("/escalations/{id}/attachments")]
#[tracing::instrument(skip_all, fields(escalation_id = %id))]
#[allow(clippy::too_many_arguments)]
pub async fn upload_attachment(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    query: ValidQuery<UploadQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let escalation = visible(&state, &caller, *id).await?;
    let filename = query
        .0
        .filename
        .ok_or_else(|| {
            ApiError::invalid_query(vec![FieldError::new(
                "filename",
                "required",
                Text::new("field-required"),
            )])
        })
        .and_then(|name| {
            Filename::parse(&name).map_err(|invalid| {
                ApiError::invalid_query(vec![FieldError::new(
                    "filename",
                    invalid.code,
                    invalid.message,
                )])
            })
        })?;
    open_status(&escalation)?;
    let usage = store::usage(&state.db, escalation.id).await?;
    let Some(left) = state.attachment_quota.room(usage) else {
        return Err(too_many(state.attachment_quota.max_files));
    };
    let limit = left.min(state.attachment_max_bytes);
    if limit == 0 || declared_length(&req).is_some_and(|length| length > limit) {
        return Err(too_large(&state, limit));
    }
    let attachment_id = Uuid::now_v7();
    let upload = state.attachments.upload(escalation.id, attachment_id);
    let stored = store_body(&state, upload, payload, filename, limit).await?;
    match idempotency.claim_upload(&state, &stored.sha256).await {
        Ok(None) => {}
        Ok(Some(replay)) => {
            discard(&state, escalation.id, attachment_id).await;
            return Ok(replay);
        }
        Err(err) => {
            discard(&state, escalation.id, attachment_id).await;
            return Err(err);
        }
    }
    let new = NewAttachment {
        id: attachment_id,
        filename: stored.filename.into_inner(),
        media_type: stored.media_type.as_str().to_owned(),
        size_bytes: stored.size_bytes,
        sha256: hex::encode(stored.sha256),
        uploader: caller.0.clone(),
    };
    let added = store::add(
        &state.db,
        &state.writes,
        &escalation,
        new,
        state.attachment_quota,
        |row| announce(EventType::EscalationAttachmentAdded, &escalation, row),
    )
    .await;
    let row = match added {
        Ok(row) => row,
        Err(refusal) => {
            discard(&state, escalation.id, attachment_id).await;
            return Err(match refusal {
                NotAdded::Closed(status) => closed(status),
                NotAdded::NoRoom(usage) => no_room(&state, usage),
                NotAdded::Db(err) => err.into(),
            });
        }
    };
    let attachment = Attachment::try_from(row)?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!(
                "/v1/escalations/{}/attachments/{}",
                escalation.id, attachment.id
            ),
        ))
        .json(attachment))
}

/// List attachments
///
/// The files on an escalation, oldest first.
#[utoipa::path(
    operation_id = "listEscalationAttachments",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The escalation's id."), TrailQuery),
    responses(
        (status = 200, description = "A page of attachments, oldest first.", body = AttachmentList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        ReadFailures,
    ),
)]
#[get("/escalations/{id}/attachments")]
#[tracing::instrument(skip_all, fields(escalation_id = %id))]
pub async fn list_attachments(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: ValidQuery<TrailQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let escalation = visible(&state, &caller, *id).await?;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let rows = store::list(&state.db, escalation.id, page).await?;
    pagination::respond::<AttachmentList, _>(&req, rows, Attachment::try_from)
}

/// The attachment's row if the caller may see its escalation, in one statement.
async fn visible_attachment(
    state: &AppState,
    caller: &Caller<Anyone>,
    escalation_id: Uuid,
    attachment_id: Uuid,
) -> Result<AttachmentRow, ApiError> {
    store::get(&state.db, caller.scope(), escalation_id, attachment_id)
        .await?
        .ok_or(ApiError::not_found("attachment"))
}

/// Get an attachment
///
/// What is known of one file: its name, kind, size, digest, uploader and time.
#[utoipa::path(
    operation_id = "getEscalationAttachment",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The escalation's id."),
        ("attachment_id" = Uuid, Path, description = "The attachment's id."),
    ),
    responses(
        (status = 200, description = "The attachment.", body = Attachment),
        ReadFailures,
    ),
)]
#[get("/escalations/{id}/attachments/{attachment_id}")]
#[tracing::instrument(skip_all, fields(escalation_id = %path.0, attachment_id = %path.1))]
pub async fn get_attachment(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let row = visible_attachment(&state, &caller, path.0, path.1).await?;
    Ok(HttpResponse::Ok().json(Attachment::try_from(row)?))
}

/// Download an attachment
///
/// The file's bytes, as `Content-Disposition: attachment` with its name, served as the kind
/// judged at upload (text of every kind, JSON and HAR included, as `text/plain; charset=utf-8`)
/// and never sniffed by browsers (`X-Content-Type-Options: nosniff`). One byte
/// range may be asked for with `Range: bytes=…` (206); `If-Range` with the `ETag` resumes only
/// the same content. Clients may take every answer as `application/octet-stream` bytes.
#[utoipa::path(
    operation_id = "downloadEscalationAttachment",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The escalation's id."),
        ("attachment_id" = Uuid, Path, description = "The attachment's id."),
        RangeHeaders,
    ),
    responses(
        (status = 200, description = "The whole file.",
            content(
                (FileBytes = "application/octet-stream"), (FileBytes = "image/png"), (FileBytes = "image/jpeg"), (FileBytes = "image/gif"),
                (FileBytes = "image/webp"), (FileBytes = "image/bmp"),
                (FileBytes = "application/pdf"), (FileBytes = "application/zip"),
                (FileBytes = "application/gzip"), (FileBytes = "text/plain"),
            ),
            headers(
                ("Content-Disposition" = String, description = "`attachment` with the file's name."),
                ("ETag" = String, description = "The content's SHA-256, quoted."),
                ("Accept-Ranges" = String, description = "`bytes`."),
            )),
        (status = 206, description = "The range asked for.",
            content(
                (FileBytes = "application/octet-stream"), (FileBytes = "image/png"), (FileBytes = "image/jpeg"), (FileBytes = "image/gif"),
                (FileBytes = "image/webp"), (FileBytes = "image/bmp"),
                (FileBytes = "application/pdf"), (FileBytes = "application/zip"),
                (FileBytes = "application/gzip"), (FileBytes = "text/plain"),
            ),
            headers(("Content-Range" = String, description = "`bytes first-last/size`."))),
        ReadFailures,
        (status = 416, response = RangeNotSatisfiable),
    ),
)]
#[get("/escalations/{id}/attachments/{attachment_id}/content")]
#[tracing::instrument(skip_all, fields(escalation_id = %path.0, attachment_id = %path.1))]
pub async fn download_attachment(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let attachment =
        Attachment::try_from(visible_attachment(&state, &caller, path.0, path.1).await?)?;
    let size = attachment.size_bytes;
    let etag = format!("\"{}\"", attachment.sha256);
    let range = byte_ranges::requested(&req, &etag, size)?;
    let bytes = state
        .attachments
        .read(attachment.escalation_id, attachment.id, range.clone())
        .await
        .map_err(|err: StorageError| {
            if err.is_not_found() {
                ApiError::internal(format!("attachment {} has no stored object", attachment.id))
            } else {
                err.into()
            }
        })?;
    let mut response = match &range {
        Some(range) => {
            let mut partial = HttpResponse::PartialContent();
            partial.insert_header(byte_ranges::content_range(range, size));
            partial
        }
        None => HttpResponse::Ok(),
    };
    let length = range.as_ref().map_or(size, |range| range.end - range.start);
    Ok(response
        .insert_header((header::CONTENT_TYPE, attachment.media_type.content_type()))
        .insert_header(byte_ranges::attachment_disposition(&attachment.filename))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .no_chunking(length)
        .streaming(bytes))
}

/// Remove an attachment
///
/// The side that uploaded a file (the partner, or 21Vianet's staff) may remove it while the
/// escalation is open; the audit trail keeps its name, size and digest.
#[utoipa::path(
    operation_id = "deleteEscalationAttachment",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The escalation's id."),
        ("attachment_id" = Uuid, Path, description = "The attachment's id."),
    ),
    responses(
        (status = 204, description = "Removed."),
        ReadFailures,
        (status = 403, response = NotTheUploader),
        (status = 409, response = EscalationClosed),
    ),
)]
#[delete("/escalations/{id}/attachments/{attachment_id}")]
#[tracing::instrument(skip_all, fields(escalation_id = %path.0, attachment_id = %path.1))]
pub async fn delete_attachment(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let escalation = visible(&state, &caller, path.0).await?;
    let row = visible_attachment(&state, &caller, escalation.id, path.1).await?;
    let uploader: Role = row.uploader_role.parse().map_err(ApiError::internal)?;
    if Side::of(uploader) != Side::of(caller.role) {
        return Err(ApiError::Denied {
            code: "not_the_uploader",
            detail: Text::new("problem-not-the-uploader"),
        });
    }
    open_status(&escalation)?;
    let actor = caller.0.clone();
    let removed = store::remove(&state.db, &state.writes, &escalation, &row, &actor, |row| {
        announce(EventType::EscalationAttachmentRemoved, &escalation, row)
    })
    .await?;
    if !removed {
        return Err(ApiError::not_found("attachment"));
    }
    discard(&state, escalation.id, row.id).await;
    Ok(HttpResponse::NoContent().finish())
}
