//! The container image, as its Dockerfile configures it: the environment it sets must leave
//! `DATABASE_URL` in charge (the README's `docker run -e DATABASE_URL=…`), its health check must
//! be a command the binary has, and its shutdown must fit in `docker stop`'s ten seconds.

use std::process::Command;

use crate::helpers::TestDatabase;

const DOCKERFILE: &str = include_str!("../../Dockerfile");

/// The runtime stage's instructions, continuation lines joined.
fn runtime_instructions() -> Vec<String> {
    let runtime = DOCKERFILE
        .rsplit_once("\nFROM ")
        .map(|(_, last)| last)
        .expect("a multi-stage build");
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in runtime.lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(continued) => current.push_str(continued),
            None => {
                current.push_str(line);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    instructions
}

/// `ENV` of the runtime stage: name and value.
fn image_environment() -> Vec<(String, String)> {
    runtime_instructions()
        .iter()
        .filter_map(|instruction| instruction.strip_prefix("ENV "))
        .flat_map(|pairs| pairs.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

#[tokio::test]
async fn database_url_chooses_the_database_inside_the_image() {
    let database = TestDatabase::empty().await;

    let output = Command::new(env!("CARGO_BIN_EXE_escalade"))
        .env_clear()
        .envs(image_environment())
        .env("DATABASE_URL", database.url())
        .arg("migrate")
        .output()
        .unwrap();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pending = crate::migrations::pending(&database.db).await;
    assert_eq!(pending, 0, "DATABASE_URL's database was migrated");
}

#[test]
fn the_health_check_and_the_shutdown_fit_the_image() {
    let instructions = runtime_instructions();
    let health = instructions
        .iter()
        .find(|instruction| instruction.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    assert!(
        health.contains(r#"CMD ["escalade", "healthcheck"]"#),
        "{health}"
    );
    let environment = image_environment();
    let shutdown: u64 = environment
        .iter()
        .find(|(name, _)| name == "ESCALADE_SHUTDOWN_TIMEOUT_SECS")
        .map(|(_, value)| value.parse().unwrap())
        .expect("a shutdown timeout");
    assert!(shutdown < 10, "inside docker stop's 10 s: {shutdown}");
    let known = Command::new(env!("CARGO_BIN_EXE_escalade"))
        .args(["healthcheck", "--help"])
        .output()
        .unwrap();
    assert!(known.status.success());
}

/// Every file the binary embeds (`include_str!`, rust-embed's `folder`) lies in a directory the
/// build stage copies, or the image would not build.
#[test]
fn the_build_stage_copies_every_directory_the_binary_embeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut embedded = std::collections::BTreeSet::new();
    let mut pending = vec![root.join("src")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (marker, relative_to_file) in [("include_str!(\"", true), ("#[folder = \"", false)]
            {
                for rest in text.split(marker).skip(1) {
                    let target = rest.split('"').next().unwrap();
                    let base = if relative_to_file {
                        path.parent().unwrap()
                    } else {
                        root
                    };
                    let resolved = base.join(target).canonicalize().unwrap();
                    let inside = resolved.strip_prefix(root).unwrap();
                    let top = inside.components().next().unwrap().as_os_str();
                    embedded.insert(top.to_str().unwrap().to_owned());
                }
            }
        }
    }
    assert!(
        embedded.contains("sla") && embedded.contains("calendar"),
        "{embedded:?}"
    );
    for dir in embedded {
        let copied = DOCKERFILE
            .lines()
            .any(|line| line.trim().starts_with(&format!("COPY {dir}")));
        assert!(copied, "the Dockerfile's build stage does not copy {dir}/");
    }
}
