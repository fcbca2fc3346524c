//! `ipr demo`: the whole workflow on a throwaway gitops repo.

use std::path::PathBuf;

use clap::Parser;

use crate::action::{self, Options};
use crate::config::{Notification, Role, User, WebhookTarget};
use crate::error::{Error, Result};
use crate::query::View;
use crate::session::Session;
use crate::store::Store;

use super::{Cli, Ctx};

/// Run the workflow end to end on a throwaway gitops repo: an admin sets
/// it up, a devops engineer files a request, a tenant admin approves it,
/// it is deployed, and an auditor verifies the history.
///
/// Each step prints the command a user would type and its output. The
/// repo has one notification target, a webhook that the demo itself
/// receives on 127.0.0.1, so you see each event as it is delivered.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Build the demo repo here and keep it [default: a temporary directory, removed after].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Then serve the demo repo (`ipr serve`): the web UI and the API, with
    /// a second request waiting for review and a token for each user,
    /// printed with the URL. Ctrl-C stops it.
    #[arg(long)]
    pub serve: bool,

    /// Where `--serve` listens.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        requires = "serve"
    )]
    pub listen: std::net::SocketAddr,
}

const ADMIN: &str = "ops-lead@example.com";
const DEVOPS: &str = "pierre.durand@example.com";
const TENANT_ADMIN: &str = "jean.dupont@example.com";
const TENANT: &str = "tenant-finance";
const AUDITOR: &str = "auditor@example.com";

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    super::only_table(ctx, "demo")?;
    let (tmp, dir) = match args.dir {
        Some(d) => {
            std::fs::create_dir_all(&d)?;
            (None, d)
        }
        None => {
            let t = tempfile::Builder::new().prefix("ipr-demo-").tempdir()?;
            let d = t.path().to_path_buf();
            (Some(t), d)
        }
    };
    Store::init(&dir, "main")?;
    println!("# a throwaway gitops repo in {}\n", dir.display());

    step(
        &dir,
        ADMIN,
        "the platform admin sets the repo up",
        &["init", "--tenant", TENANT, "--tenant", "tenant-retail"],
    )?;
    let receiver = Receiver::start()?;
    println!(
        "# the admin adds a devops engineer, a tenant admin and an auditor to .ipr/config.yaml,"
    );
    println!(
        "# and a webhook that receives every event (the demo listens on {})",
        receiver.url
    );
    as_user(&dir, ADMIN)?;
    let store = Store::open(Some(&dir))?;
    let admin = Session::from_git_config(&store, super::clock()?)?;
    let mut config = View::open(&store, &admin)?.config().clone();
    for (email, role) in [
        (DEVOPS, Role::Devops),
        (TENANT_ADMIN, Role::TenantAdmin),
        (AUDITOR, Role::Viewer),
    ] {
        config.users.insert(
            email.to_string(),
            User {
                role,
                tenants: vec![TENANT.to_string()],
            },
        );
    }
    config
        .notifications
        .push(Notification::Webhook(WebhookTarget {
            name: "demo-webhook".into(),
            url: receiver
                .url
                .parse()
                .map_err(|e| Error::other(format!("demo: {e}")))?,
            secret_env: None,
            timeout: None,
            events: Vec::new(),
            tenants: Vec::new(),
        }));
    action::update_config(&store, &admin, &config, Options::default())?;
    println!();

    step(
        &dir,
        DEVOPS,
        "a devops engineer files a promotion",
        &[
            "create",
            "--type",
            "api",
            "--name",
            "payment-api",
            "--version",
            "2.1.0",
            "--tenant",
            TENANT,
            "--impact",
            "low",
            "--justification",
            "New PCI-DSS compliant payment flow",
            "--release-notes=- Added 3DS2 authentication",
            "--rollback-plan",
            "Revert to v2.0.0 via emergency deploy",
            "--staging-tests-passed",
            "--security-scan-passed",
            "--performance-tests-passed",
            "--evidence-url",
            "https://ci.example.com/pipeline/12345",
        ],
    )?;
    let id = View::open(&store, &admin)?
        .visible()?
        .tickets
        .last()
        .map(|t| t.id().to_string())
        .ok_or_else(|| Error::other("demo: the request was not created"))?;

    step(
        &dir,
        DEVOPS,
        "the requester may not approve it",
        &["approve", &id],
    )
    .or_else(expected)?;
    step(
        &dir,
        TENANT_ADMIN,
        "the tenant admin sees it in the review queue",
        &["list", "--pending"],
    )?;
    step(
        &dir,
        TENANT_ADMIN,
        "and approves it",
        &["approve", &id, "--comment", "Approved after review"],
    )?;
    step(
        &dir,
        DEVOPS,
        "the devops engineer checks what deploy would run",
        &["deploy", &id, "--dry-run"],
    )?;
    step(
        &dir,
        DEVOPS,
        "and deploys it through the shell runner (the embedded default)",
        &["deploy", &id],
    )?;
    step(
        &dir,
        DEVOPS,
        "the final ticket, with its timeline",
        &["show", &id],
    )?;
    step(
        &dir,
        DEVOPS,
        "every step is a commit by the person who took it",
        &["log", &id],
    )?;
    step(
        &dir,
        AUDITOR,
        "an auditor replays the whole history and checks every transition",
        &["verify"],
    )?;
    step(
        &dir,
        ADMIN,
        "every event reached the webhook; nothing is left to deliver",
        &["notify"],
    )?;
    if args.serve {
        serve(&dir, &store, &admin, args.listen)?;
    }
    drop(receiver);

    match tmp {
        Some(t) => {
            drop(t);
            println!("# done; the demo repo was removed (keep one with `ipr demo --dir DIR`)");
        }
        None => println!("# done; the demo repo is in {}", dir.display()),
    }
    Ok(())
}

/// `--serve`: one more request, waiting for the tenant admin; a token for
/// each user; then the server, until Ctrl-C.
fn serve(
    dir: &std::path::Path,
    store: &Store,
    admin: &Session,
    listen: std::net::SocketAddr,
) -> Result<()> {
    step(
        dir,
        DEVOPS,
        "one more request, left for you to review in the browser",
        &[
            "create",
            "--type",
            "application",
            "--name",
            "billing-service",
            "--version",
            "1.4.0",
            "--tenant",
            TENANT,
            "--impact",
            "medium",
            "--justification",
            "Invoices in the customer's currency (FIN-1234)",
            "--rollback-plan",
            "Redeploy 1.3.2; the migration is additive",
            "--staging-tests-passed",
            "--security-scan-passed",
            "--evidence-url",
            "https://ci.example.com/pipeline/12399",
        ],
    )?;
    as_user(dir, ADMIN)?;
    let mut config = View::open(store, admin)?.config().clone();
    let mut tokens = Vec::new();
    let server = config.server.get_or_insert_with(Default::default);
    for (email, role) in [
        (TENANT_ADMIN, "tenant admin: approves"),
        (DEVOPS, "devops: files requests"),
        (ADMIN, "admin"),
        (AUDITOR, "viewer"),
    ] {
        let token = crate::server::auth::new_token()?;
        server
            .tokens
            .insert(crate::server::auth::token_hash(&token), email.to_string());
        tokens.push((email, role, token));
    }
    action::update_config(store, admin, &config, Options::default())?;
    let repo = dir.to_path_buf();
    super::serve::run_server(repo, listen, None, |addr| {
        println!("# the web UI and the API of this repo: http://{addr}");
        println!("# sign in with a token (the admin committed their SHA-256 under server.tokens):");
        for (email, role, token) in &tokens {
            println!("#   {token}  {email} ({role})");
        }
        if let Some((_, _, token)) = tokens.first() {
            println!(
                "$ curl -H 'Authorization: Bearer {token}' http://{addr}/v1/requests/prod/pending"
            );
        }
        println!("# events still reach the demo's webhook below; Ctrl-C stops the server\n");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
    })
}

fn as_user(dir: &std::path::Path, email: &str) -> Result<()> {
    Store::open(Some(dir))?.set_local_identity(email.split('@').next().unwrap_or(email), email)
}

/// Print and run one ipr command as `email`.
fn step(dir: &std::path::Path, email: &str, what: &str, args: &[&str]) -> Result<()> {
    as_user(dir, email)?;
    println!("# {what} (as {email})");
    let shown: Vec<String> = args
        .iter()
        .map(|a| {
            if a.contains(' ') || a.is_empty() {
                format!("\"{a}\"")
            } else {
                a.to_string()
            }
        })
        .collect();
    println!("$ ipr {}", shown.join(" "));
    let mut argv = vec!["ipr", "-C", dir.to_str().unwrap_or(".")];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| Error::other(format!("demo: {e}")))?;
    let result = super::run(cli);
    println!();
    result
}

/// A refusal the demo means to show.
fn expected(e: Error) -> Result<()> {
    println!("error: {}\n", e.message());
    Ok(())
}

/// The demo's webhook receiver: prints each CloudEvent it gets, before it
/// answers, so the line appears right under the command that landed it.
struct Receiver {
    url: String,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    fn start() -> Result<Receiver> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::other(format!("demo: {e}")))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| Error::other(format!("demo: cannot listen: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::other(format!("demo: {e}")))?;
        let app = axum::Router::new().route("/events", axum::routing::post(received));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Ok(Receiver {
            url: format!("http://{addr}/events"),
            _runtime: runtime,
        })
    }
}

async fn received(axum::Json(event): axum::Json<serde_json::Value>) -> &'static str {
    let s = |k: &str| event[k].as_str().unwrap_or("?").to_string();
    println!(
        "  [webhook] {} {} by {} (event {})",
        super::output::esc(&s("type")),
        super::output::esc(&s("subject")),
        super::output::esc(event["data"]["actor"].as_str().unwrap_or("?")),
        super::output::esc(&s("id")),
    );
    "ok"
}
