//! The commands of the `escalade` binary: `serve` (the default), `migrate`, `openapi`,
//! `api-key create`, `healthcheck` and `secret-key generate|rewrap`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::config::{
    ApiKeyCommand, Cli, Command, CreateApiKey, DatabaseSettings, HealthcheckArgs, OpenapiVersion,
    SecretKeyCommand, SecretKeySettings, ServeSettings,
};
use crate::domain::sealing::{KeyRing, SecretKey};
use crate::domain::{DisplayName, Role};
use crate::http::api_keys::issue;
use crate::i18n::Language;
use crate::openapi::v30;
use crate::secret_keys::Source;
use crate::startup::{Application, openapi};
use crate::store::api_keys::NewApiKey;
use crate::store::webhooks::Reseal;
use crate::{demo, store};

pub type RunError = Box<dyn std::error::Error>;

pub async fn run(cli: Cli) -> Result<(), RunError> {
    match cli.command {
        Some(Command::Serve(settings)) => serve(&cli.database, &settings).await,
        None => serve(&cli.database, &ServeOnly::parse_from(["escalade"]).settings).await,
        Some(Command::Migrate) => {
            migrate(&cli.database).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::Openapi(args)) => {
            println!("{}", openapi_json(args.version));
            Ok(())
        }
        Some(Command::ApiKey(ApiKeyCommand::Create(create))) => {
            create_api_key(&cli.database, create).await
        }
        Some(Command::Healthcheck(args)) => healthcheck(&args).await,
        Some(Command::SecretKey(SecretKeyCommand::Generate)) => {
            println!("{}", SecretKey::generate().encode());
            Ok(())
        }
        Some(Command::SecretKey(SecretKeyCommand::Rewrap(settings))) => {
            rewrap(&cli.database, &settings).await
        }
    }
}

/// `bind` as a client on this machine reaches it: loopback where the server listens on every
/// address.
fn reachable(mut bind: SocketAddr) -> SocketAddr {
    if bind.ip().is_unspecified() {
        bind.set_ip(match bind {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    bind
}

/// Asks the server on `args.bind` whether it is ready.
async fn healthcheck(args: &HealthcheckArgs) -> Result<(), RunError> {
    let url = format!("http://{}/readyz", reachable(args.bind));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_secs))
        .no_proxy()
        .build()?;
    let status = client
        .get(&url)
        .send()
        .await
        .map_err(|err| format!("{url} did not answer: {err}"))?
        .status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {status}: not ready").into())
    }
}

/// `serve`'s flags alone, read from the environment when no command is given.
#[derive(Parser)]
struct ServeOnly {
    #[command(flatten)]
    settings: ServeSettings,
}

/// The OpenAPI document as pretty JSON, exactly as checked in (`println!` adds the final
/// newline): `openapi/openapi.json`, or `openapi/openapi-3.0.json` for the 3.0 rendition.
pub fn openapi_json(version: OpenapiVersion) -> String {
    let document = serde_json::to_value(openapi()).expect("the OpenAPI document serialises");
    let document = match version {
        OpenapiVersion::V3_1 => document,
        OpenapiVersion::V3_0 => v30::render(&document),
    };
    serde_json::to_string_pretty(&document).expect("JSON serialises")
}

async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, RunError> {
    store::connect(settings)
        .await
        .map_err(|err| format!("cannot open the database: {err}").into())
}

/// Applies pending migrations over a connection of their own, free of the statement timeout
/// that bounds requests: a migration may rewrite a large table.
async fn migrate(database: &DatabaseSettings) -> Result<(), RunError> {
    let db = connect(&database.for_maintenance()).await?;
    let migrated = store::migrate(&db).await;
    db.close().await.ok();
    Ok(migrated?)
}

async fn serve(database: &DatabaseSettings, settings: &ServeSettings) -> Result<(), RunError> {
    // The files the SLA clock is made of are read before anything is written, so a malformed
    // one stops the start with nothing changed and no key shown.
    crate::startup::sla_clock(&settings.sla)?;
    let keys = secret_keys(database, &settings.secret_keys)?;
    if !settings.no_migrate {
        migrate(database).await?;
    }
    let db = connect(database).await?;
    ensure_migrated(&db).await?;
    let sealed = store::webhooks::reseal(&db, &keys, Reseal::Plaintext).await?;
    if sealed > 0 {
        tracing::info!(endpoints = sealed, "sealed webhook secrets stored in clear");
    }
    let mut demo_keys = None;
    if settings.demo {
        demo_keys = Some(demo::seed(&db).await?);
    } else if !store::api_keys::admin_exists(&db).await? {
        let issued = issue(
            &db,
            NewApiKey {
                name: DisplayName::parse("initial admin").expect("a valid name"),
                role: Role::Admin,
                partner_id: None,
            },
        )
        .await
        .map_err(|err| err.to_string())?;
        println!("escalade: no admin key existed, so one was created. It is shown only now:");
        println!("  admin    {}", issued.secret.secret);
    }
    let mut settings = settings.clone();
    settings.attachments.attachment_store = Some(settings.attachments.store_for(&database.url())?);
    let app = Application::build(&settings, db, keys)?;
    tracing::info!(port = app.port(), bind = %settings.bind, "escalade is listening");
    let listening = SocketAddr::new(settings.bind.ip(), app.port());
    // The demo's keys and the console's URL once the port is known, together and before the
    // `listening on` line, which scripts read as the end of what is printed at the start.
    if let Some(keys) = demo_keys {
        println!(
            "escalade demo: a partner with customers and subscriptions is ready. Working keys (shown once):"
        );
        println!("  admin    {}", keys.admin);
        println!("  operator {}", keys.operator);
        println!("  partner  {}", keys.partner);
        println!(
            "  console  http://{}/console/ (sign in with a key above)",
            reachable(listening)
        );
    }
    println!("escalade: listening on http://{listening} (console at /console/, docs at /docs)");
    app.run_until_stopped().await?;
    Ok(())
}

/// The key ring in force, with where it came from in the log (never the keys themselves).
fn secret_keys(
    database: &DatabaseSettings,
    settings: &SecretKeySettings,
) -> Result<KeyRing, RunError> {
    let (keys, source) = crate::secret_keys::load(database, settings.secret_key_file.as_deref())?;
    let current = keys.current().id().to_owned();
    match source {
        Source::Environment => {
            tracing::info!(current_key = %current, "secret keys from ESCALADE_SECRET_KEY")
        }
        Source::File(path) => {
            tracing::info!(current_key = %current, file = %path.display(), "secret keys from a file")
        }
        Source::Created(path) => tracing::warn!(
            current_key = %current,
            file = %path.display(),
            "created a secret key beside the database; back it up apart from the database"
        ),
    }
    Ok(keys)
}

/// `secret-key rewrap`: every stored secret sealed under the current key.
async fn rewrap(database: &DatabaseSettings, settings: &SecretKeySettings) -> Result<(), RunError> {
    let keys = secret_keys(database, settings)?;
    let db = connect(database).await?;
    ensure_migrated(&db).await?;
    let resealed = store::webhooks::reseal(&db, &keys, Reseal::AllButCurrent).await?;
    println!(
        "escalade: {resealed} webhook endpoint(s) sealed again under key {}",
        keys.current().id()
    );
    Ok(())
}

async fn ensure_migrated(db: &DatabaseConnection) -> Result<(), RunError> {
    let pending = Migrator::get_pending_migrations(db).await?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the database schema is {} migration(s) behind: run `escalade migrate`",
            pending.len()
        )
        .into())
    }
}

async fn create_api_key(database: &DatabaseSettings, create: CreateApiKey) -> Result<(), RunError> {
    let db = connect(database).await?;
    ensure_migrated(&db).await?;
    let name = DisplayName::parse(&create.name)
        .map_err(|invalid| format!("--name {}", invalid.message.render(Language::English)))?;
    let issued = issue(
        &db,
        NewApiKey {
            name,
            role: create.role,
            partner_id: create.partner_id,
        },
    )
    .await
    .map_err(|err| {
        let problem = err.problem(Language::English, None);
        let fields: Vec<String> = problem
            .errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect();
        format!("{} {}", problem.detail, fields.join("; "))
    })?;
    println!("{}", issued.secret.secret);
    Ok(())
}
