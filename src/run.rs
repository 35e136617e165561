//! The commands of the `escalade` binary: `serve` (the default), `migrate`, `openapi` and
//! `api-key create`.

use clap::Parser;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::config::{
    ApiKeyCommand, Cli, Command, CreateApiKey, DatabaseSettings, OpenapiVersion, ServeSettings,
};
use crate::domain::{DisplayName, Role};
use crate::http::api_keys::issue;
use crate::openapi::v30;
use crate::startup::{Application, openapi};
use crate::store::api_keys::NewApiKey;
use crate::{demo, store};

pub type RunError = Box<dyn std::error::Error>;

pub async fn run(cli: Cli) -> Result<(), RunError> {
    match cli.command {
        Some(Command::Serve(settings)) => serve(&cli.database, &settings).await,
        None => serve(&cli.database, &ServeOnly::parse_from(["escalade"]).settings).await,
        Some(Command::Migrate) => {
            let db = connect(&cli.database).await?;
            store::migrate(&db).await?;
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

async fn serve(database: &DatabaseSettings, settings: &ServeSettings) -> Result<(), RunError> {
    let db = connect(database).await?;
    if settings.no_migrate {
        ensure_migrated(&db).await?;
    } else {
        store::migrate(&db).await?;
    }
    if settings.demo {
        let keys = demo::seed(&db).await?;
        println!(
            "escalade demo: a partner with customers and subscriptions is ready. Working keys (shown once):"
        );
        println!("  admin    {}", keys.admin);
        println!("  operator {}", keys.operator);
        println!("  partner  {}", keys.partner);
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
    let app = Application::build(settings, db)?;
    tracing::info!(port = app.port(), bind = %settings.bind, "escalade is listening");
    println!(
        "escalade: listening on http://{}:{} (docs at /docs)",
        settings.bind.ip(),
        app.port()
    );
    app.run_until_stopped().await?;
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
        .map_err(|invalid| format!("--name {}", invalid.message))?;
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
        let problem = err.problem(None);
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
