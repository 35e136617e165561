//! Where attachments' bytes live: a directory on the local filesystem (the default, beside a
//! SQLite database), or S3-compatible object storage for deployments of several instances. Both
//! sit behind `object_store`; the database holds what is known of each file.
//!
//! An object is written under `escalations/{escalation_id}/{attachment_id}` before its row is
//! committed, and is visible only through its row: a crash in between leaves an object nobody
//! can see, which housekeeping deletes once it is older than any upload can take.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig, WriteMultipart,
};
use url::Url;
use uuid::Uuid;

/// Where the objects of all escalations are kept, below the store's root.
const ROOT: &str = "escalations";

/// The configured place, as given to `--attachment-store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `file:///var/lib/escalade/attachments`: a directory, created when missing.
    Directory(PathBuf),
    /// `s3://bucket/prefix?endpoint=…&region=…`: credentials and other settings come from the
    /// usual `AWS_*` variables; query parameters are `object_store`'s S3 settings.
    S3(Url),
}

impl StoreLocation {
    /// Reasons never repeat the value, which may carry an account's settings.
    pub fn parse(value: &str) -> Result<Self, String> {
        let url = Url::parse(value).map_err(|err| {
            format!("not a store URL such as file:///var/lib/escalade/attachments or s3://bucket/prefix ({err})")
        })?;
        match url.scheme() {
            "file" => url
                .to_file_path()
                .map(Self::Directory)
                .map_err(|()| "a directory must be given as an absolute file:/// URL".to_owned()),
            "s3" if url.host_str().is_some_and(|bucket| !bucket.is_empty()) => {
                for (key, _) in url.query_pairs() {
                    match AmazonS3ConfigKey::from_str(&key) {
                        Ok(
                            AmazonS3ConfigKey::AccessKeyId
                            | AmazonS3ConfigKey::SecretAccessKey
                            | AmazonS3ConfigKey::Token,
                        ) => {
                            return Err(format!(
                                "`{key}` does not belong in the store URL, where it would show in \
                                 process lists: give credentials as AWS_ACCESS_KEY_ID, \
                                 AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
                            ));
                        }
                        Ok(_) => {}
                        Err(_) => {
                            return Err(format!("`{key}` is not an S3 setting object_store knows"));
                        }
                    }
                }
                Ok(Self::S3(url))
            }
            _ => Err("neither a file:/// nor an s3://bucket URL".to_owned()),
        }
    }

    /// `escalade.attachments` beside `escalade.db`, for a SQLite database kept in a file.
    pub fn beside_sqlite(database_url: &str) -> Option<Self> {
        let file = crate::store::sqlite_file(database_url)?;
        let directory = file.with_extension("attachments");
        let directory = if directory.is_absolute() {
            directory
        } else {
            std::env::current_dir().ok()?.join(directory)
        };
        Some(Self::Directory(directory))
    }
}

/// Shown in logs and on `/readyz`: never the query, which may carry settings of the account.
impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Directory(path) => write!(f, "file://{}", path.display()),
            Self::S3(url) => write!(
                f,
                "s3://{}{}",
                url.host_str().unwrap_or_default(),
                url.path()
            ),
        }
    }
}

/// The store could not be reached or refused the operation; the cause is logged, never sent.
#[derive(Debug, thiserror::Error)]
#[error("the attachment store failed: {0}")]
pub struct StorageError(#[from] object_store::Error);

impl StorageError {
    pub fn is_not_found(&self) -> bool {
        matches!(self.0, object_store::Error::NotFound { .. })
    }
}

/// The attachment store: cheap to clone.
#[derive(Debug, Clone)]
pub struct AttachmentStore {
    objects: Arc<dyn ObjectStore>,
    location: Arc<StoreLocation>,
    /// How much of an upload is held in memory before it is written: one part.
    part_size: usize,
}

/// How long the store is retried before a request is answered 503.
fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(20),
    }
}

impl AttachmentStore {
    pub fn open(location: &StoreLocation) -> Result<Self, String> {
        let (objects, part_size): (Arc<dyn ObjectStore>, usize) = match location {
            StoreLocation::Directory(path) => {
                std::fs::create_dir_all(path).map_err(|err| {
                    format!(
                        "cannot create the attachment directory {}: {err}",
                        path.display()
                    )
                })?;
                let local = LocalFileSystem::new_with_prefix(path)
                    .map_err(|err| format!("cannot use {}: {err}", path.display()))?;
                // Parts go straight to a staging file: a small one keeps memory low.
                (Arc::new(local), 1024 * 1024)
            }
            StoreLocation::S3(url) => {
                let bucket = url.host_str().unwrap_or_default();
                let mut builder = AmazonS3Builder::from_env()
                    .with_url(format!("s3://{bucket}"))
                    .with_retry(retry())
                    .with_client_options(
                        ClientOptions::new()
                            .with_connect_timeout(Duration::from_secs(5))
                            .with_timeout(Duration::from_secs(60)),
                    );
                for (key, value) in url.query_pairs() {
                    let key = AmazonS3ConfigKey::from_str(&key).map_err(|err| err.to_string())?;
                    builder = builder.with_config(key, value);
                }
                let s3 = builder
                    .build()
                    .map_err(|err| format!("cannot use {location}: {err}"))?;
                let prefix = url.path().trim_matches('/');
                // S3's smallest part but the last.
                let part_size = 5 * 1024 * 1024;
                if prefix.is_empty() {
                    (Arc::new(s3), part_size)
                } else {
                    (Arc::new(PrefixStore::new(s3, prefix)), part_size)
                }
            }
        };
        Ok(Self {
            objects,
            location: Arc::new(location.clone()),
            part_size,
        })
    }

    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    fn path(escalation_id: Uuid, attachment_id: Uuid) -> Path {
        Path::from_iter([
            ROOT.to_owned(),
            escalation_id.to_string(),
            attachment_id.to_string(),
        ])
    }

    /// Starts writing an attachment's object.
    pub fn upload(&self, escalation_id: Uuid, attachment_id: Uuid) -> Upload {
        Upload {
            store: self.clone(),
            path: Self::path(escalation_id, attachment_id),
            head: Vec::new(),
            buffered: 0,
            multipart: None,
        }
    }

    /// The object's bytes, or those in `range`.
    pub async fn read(
        &self,
        escalation_id: Uuid,
        attachment_id: Uuid,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .objects
            .get_opts(&Self::path(escalation_id, attachment_id), options)
            .await?;
        Ok(result.into_stream().map_err(StorageError).boxed())
    }

    /// Deletes an attachment's object; one already gone is fine.
    pub async fn delete(
        &self,
        escalation_id: Uuid,
        attachment_id: Uuid,
    ) -> Result<(), StorageError> {
        self.delete_path(&Self::path(escalation_id, attachment_id))
            .await
    }

    async fn delete_path(&self, path: &Path) -> Result<(), StorageError> {
        match self.objects.delete(path).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => Ok(other?),
        }
    }

    /// The objects last written before `cutoff`, by the attachment id they are stored under.
    pub async fn written_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<StoredObject>, StorageError> {
        let mut found = Vec::new();
        let mut listing = self.objects.list(Some(&Path::from(ROOT)));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if meta.last_modified >= cutoff {
                continue;
            }
            let attachment_id = meta
                .location
                .filename()
                .and_then(|name| Uuid::parse_str(name).ok());
            found.push(StoredObject {
                attachment_id,
                path: meta.location,
            });
        }
        Ok(found)
    }

    /// Deletes the part files a crash left in a file store, last written before `cutoff`; how
    /// many. The filesystem store writes an object to `<id>#<n>` beside its name and renames it
    /// once complete, and its listing never shows those files, so nothing else would ever remove
    /// them. (An S3 store's interrupted multipart uploads are the bucket's to expire, with a
    /// lifecycle rule aborting incomplete uploads.)
    pub async fn delete_stale_parts(&self, cutoff: DateTime<Utc>) -> Result<usize, StorageError> {
        let StoreLocation::Directory(directory) = self.location.as_ref() else {
            return Ok(0);
        };
        let root = directory.join(ROOT);
        let deleted = tokio::task::spawn_blocking(move || {
            let parts = stale_parts(&root, cutoff.into())?;
            for part in &parts {
                match std::fs::remove_file(part) {
                    Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
                    _ => {}
                }
            }
            Ok(parts.len())
        })
        .await
        .unwrap_or_else(|joined| Err(std::io::Error::other(joined.to_string())));
        deleted.map_err(|source| {
            StorageError(object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(source),
            })
        })
    }

    /// Deletes an object found by [`Self::written_before`].
    pub async fn delete_object(&self, object: &StoredObject) -> Result<(), StorageError> {
        self.delete_path(&object.path).await
    }
}

/// The part files under `root` (`<attachment id>#<n>`, one directory per escalation) last
/// written before `cutoff`.
fn stale_parts(root: &std::path::Path, cutoff: SystemTime) -> std::io::Result<Vec<PathBuf>> {
    let is_part = |name: &str| {
        name.split_once('#').is_some_and(|(id, n)| {
            Uuid::parse_str(id).is_ok() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        })
    };
    let escalations = match std::fs::read_dir(root) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other?,
    };
    let mut stale = Vec::new();
    for escalation in escalations {
        let escalation = escalation?;
        if !escalation.file_type()?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(escalation.path())? {
            let file = file?;
            let named_as_part = file.file_name().to_str().is_some_and(is_part);
            if named_as_part && file.metadata()?.modified()? < cutoff {
                stale.push(file.path());
            }
        }
    }
    Ok(stale)
}

/// An object in the store, as listed.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// `None` for an object whose name is not an attachment id: nothing escalade wrote.
    pub attachment_id: Option<Uuid>,
    path: Path,
}

impl StoredObject {
    pub fn path(&self) -> &str {
        self.path.as_ref()
    }
}

/// An object being written, a chunk at a time: a file smaller than one part is written whole
/// once it is complete; a larger one goes up in parts, at most two of them in memory at once.
/// Dropped or aborted before [`Upload::finish`], it leaves nothing behind (a multipart upload a
/// crash interrupts is the store's to expire).
pub struct Upload {
    store: AttachmentStore,
    path: Path,
    /// What arrived before the first part was full.
    head: Vec<Bytes>,
    buffered: usize,
    multipart: Option<WriteMultipart>,
}

impl Upload {
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        if let Some(multipart) = &mut self.multipart {
            // Back-pressure: the part before this one is sent before more is buffered.
            multipart.wait_for_capacity(1).await?;
            multipart.put(chunk);
            return Ok(());
        }
        self.buffered += chunk.len();
        self.head.push(chunk);
        if self.buffered >= self.store.part_size {
            let upload = self.store.objects.put_multipart(&self.path).await?;
            let mut multipart = WriteMultipart::new_with_chunk_size(upload, self.store.part_size);
            for chunk in self.head.drain(..) {
                multipart.put(chunk);
            }
            self.buffered = 0;
            self.multipart = Some(multipart);
        }
        Ok(())
    }

    /// Completes the object.
    pub async fn finish(self) -> Result<(), StorageError> {
        match self.multipart {
            Some(multipart) => {
                multipart.finish().await?;
            }
            None => {
                let payload: PutPayload = self.head.into_iter().collect();
                self.store.objects.put(&self.path, payload).await?;
            }
        }
        Ok(())
    }

    /// Gives up: parts already sent are discarded.
    pub async fn abort(self) {
        if let Some(multipart) = self.multipart
            && let Err(err) = multipart.abort().await
        {
            tracing::warn!(error = %err, "cannot abort an attachment's multipart upload; the store expires it");
        }
    }
}
