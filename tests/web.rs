//! The web UI end to end, in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`) against the real
//! `ipr serve`. Sign in, file a request (with the form's errors first),
//! approve as another user, reject with a reason, and the refusal of
//! self-approval; once more without JavaScript. Screenshots of each page
//! go to `target/ui-screenshots/` for review.
//!
//! With `CI` set, a missing browser or driver fails the test; elsewhere
//! the test says so and passes.

mod server_support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use server_support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "chromedriver";

/// chromedriver on a free port; stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profiles: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The driver, or None (and a note) when this machine has no browser.
fn driver() -> Option<Driver> {
    let have_driver = Command::new(DRIVER)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_driver || !std::path::Path::new(CHROMIUM).exists() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI is set but {CHROMIUM} or {DRIVER} is missing (apt: chromium chromium-driver)"
            );
        }
        eprintln!("skipped: no {CHROMIUM} or {DRIVER} here (apt: chromium chromium-driver)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(DRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // It says when it listens.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("chromedriver ended").unwrap();
        if line.contains("started successfully") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profiles: tempfile::tempdir().unwrap(),
    })
}

/// A new headless Chromium session, with or without JavaScript.
async fn browser(driver: &Driver, javascript: bool) -> Client {
    let profile = driver._profiles.path().join(format!("p{}", rand_suffix()));
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--window-size=1280,1000".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    if !javascript {
        args.push("--blink-settings=scriptEnabled=false".into());
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": CHROMIUM, "args": args}),
    );
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn present(c: &Client, css: &str) -> bool {
    !c.find_all(Locator::Css(css)).await.unwrap().is_empty()
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Click what sends a form, and wait for the page it loads (the old
/// document gone, the new one complete).
async fn submit(c: &Client, css: &str) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    click(c, css).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while old.tag_name().await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "{css} loaded no page");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("body"))
        .await
        .unwrap();
}

/// Send a form the page does not offer, as a hand-made one would be: to
/// `action`, with this page's CSRF token (or `csrf`).
async fn forge(c: &Client, action: &str, csrf: Option<&str>) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.execute(
        "const f = document.createElement('form');
         f.method = 'post'; f.action = arguments[0];
         const t = document.createElement('input');
         t.type = 'hidden'; t.name = 'csrf';
         t.value = arguments[1] ?? document.querySelector('form.who input[name=csrf]').value;
         f.appendChild(t); document.body.appendChild(f); f.submit();",
        vec![json!(action), json!(csrf)],
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while old.tag_name().await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "{action} loaded no page"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sign_in(c: &Client, base: &str, token: &str) {
    c.goto(&format!("{base}/requests/new")).await.unwrap();
    // Not signed in: the sign-in page, which comes back here after.
    assert!(c.current_url().await.unwrap().path() == "/login");
    fill(c, "#token", token).await;
    submit(c, "form.form button[type=submit]").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/requests/new");
}

async fn sign_out(c: &Client) {
    submit(c, "form.who button").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
}

/// File a low-impact request through the form; its id.
async fn file(c: &Client, base: &str, name: &str) -> String {
    c.goto(&format!("{base}/requests/new")).await.unwrap();
    fill(c, "#name", name).await;
    fill(c, "#version", "2.1.0").await;
    fill(c, "#justification", "New PCI-DSS compliant payment flow").await;
    c.find(Locator::Css("#impactAssessment option[value=low]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(c, "#rollbackPlan", "Revert to v2.0.0").await;
    click(c, "#stagingTestsPassed").await;
    click(c, "#securityScanPassed").await;
    fill(
        c,
        "#testEvidenceUrl",
        "https://ci.example.com/pipeline/12345",
    )
    .await;
    submit(c, "#submit").await;
    let url = c.current_url().await.unwrap();
    if !url.path().starts_with("/requests/PR-") {
        let errors = c
            .find_all(Locator::Css(".field-error, .banner"))
            .await
            .unwrap();
        let mut why = Vec::new();
        for e in errors {
            why.push(e.text().await.unwrap());
        }
        panic!("{url}: {why:?}");
    }
    url.path().trim_start_matches("/requests/").to_string()
}

#[test]
fn sign_in_file_approve_reject_and_refuse_self_approval_in_chromium() {
    let Some(driver) = driver() else { return };
    let repo = Repo::team("");
    let server = Server::start(&repo, &repo.dir);
    let base = server.url.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (first, second) = rt.block_on(async {
        let c = browser(&driver, true).await;
        c.set_window_size(1280, 1000).await.unwrap();

        // A wrong token: the sign-in page says so.
        c.goto(&format!("{base}/")).await.unwrap();
        shot(&c, "01-sign-in").await;
        fill(&c, "#token", "ipr_not-a-token").await;
        submit(&c, "form.form button[type=submit]").await;
        assert!(text(&c, "#login-error").await.contains("not valid"));

        // The engineer signs in and files a request; the form's errors
        // come first, next to their fields, with what was typed kept.
        fill(&c, "#token", repo.token(DEVOPS)).await;
        submit(&c, "form.form button[type=submit]").await;
        assert_eq!(text(&c, "#user").await, DEVOPS);
        c.goto(&format!("{base}/requests/new")).await.unwrap();
        fill(&c, "#name", "payment-api").await;
        fill(&c, "#version", "2.1.0").await;
        fill(&c, "#justification", "too short").await;
        fill(&c, "#testEvidenceUrl", "not a url").await;
        submit(&c, "#submit").await;
        if !present(&c, "#form-errors").await {
            panic!(
                "{} {}",
                c.current_url().await.unwrap(),
                c.source().await.unwrap()
            );
        }
        assert!(text(&c, "#form-errors").await.contains("not filed"));
        assert!(text(&c, ".field-error[data-field=justification]")
            .await
            .contains("Must be at least 20 characters"));
        assert!(present(&c, ".field-error[data-field=stagingTestsPassed]").await);
        assert!(present(&c, ".field-error[data-field=testEvidenceUrl]").await);
        let kept = c
            .find(Locator::Css("#name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(kept.as_deref(), Some("payment-api"));
        shot(&c, "03-new-request-errors").await;

        let first = file(&c, &base, "payment-api").await;
        assert!(text(&c, "#toast").await.contains("filed"));
        assert_eq!(text(&c, "#state").await.to_lowercase(), "pending");
        // Their own request: no Approve or Reject for them...
        assert!(!present(&c, "#approve").await && !present(&c, "#reject").await);
        assert!(present(&c, "#cancel").await);
        shot(&c, "04-detail-pending").await;
        // ...and an approval sent anyway is refused by the same rule as
        // `ipr approve`, with the page saying why.
        forge(&c, &format!("/requests/{first}/approve"), None).await;
        let toast = text(&c, ".toast.error").await;
        assert!(toast.contains("may not approve"), "{toast}");
        assert_eq!(text(&c, "#state").await.to_lowercase(), "pending");
        // A form without this session's CSRF token is refused too.
        c.goto(&format!("{base}/requests/{first}")).await.unwrap();
        forge(&c, &format!("/requests/{first}/cancel"), Some("forged")).await;
        assert!(text(&c, "#error-detail").await.contains("reload the page"));
        c.goto(&format!("{base}/requests/{first}")).await.unwrap();
        assert_eq!(text(&c, "#state").await.to_lowercase(), "pending");
        let second = file(&c, &base, "billing-api").await;
        sign_out(&c).await;

        // The tenant admin: both wait for them.
        sign_in(&c, &base, repo.token(TADMIN)).await;
        c.goto(&format!("{base}/?view=pending")).await.unwrap();
        assert_eq!(text(&c, "#waiting-count").await, "2");
        let rows = c
            .find_all(Locator::Css("#requests tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        shot(&c, "02-waiting-for-me").await;
        // Filters and text search.
        c.goto(&format!("{base}/?q=billing")).await.unwrap();
        let rows = c
            .find_all(Locator::Css("#requests tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].attr("data-id").await.unwrap().as_deref(),
            Some(second.as_str())
        );
        c.goto(&format!("{base}/?state=approved")).await.unwrap();
        assert!(present(&c, "#empty").await);

        // Approve, with its confirmation.
        c.goto(&format!("{base}/requests/{first}")).await.unwrap();
        click(&c, "#approve summary").await;
        shot(&c, "06-approve-confirmation").await;
        fill(&c, "#comment", "Looks good").await;
        submit(&c, "#confirm-approve").await;
        assert!(text(&c, "#toast").await.contains("approved"));
        assert_eq!(text(&c, "#state").await.to_lowercase(), "approved");
        assert!(text(&c, "#timeline").await.contains("Looks good"));
        shot(&c, "07-detail-approved").await;

        // Reject: the dialog asks for a reason of 10 characters or more.
        c.goto(&format!("{base}/requests/{second}")).await.unwrap();
        click(&c, "#reject summary").await;
        // The browser holds a short reason back (minlength)...
        fill(&c, "#reason", "Too vague").await;
        let valid = c
            .execute(
                "return document.getElementById('reason').checkValidity();",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(valid, json!(false));
        // ...and the server refuses it when the browser does not.
        c.execute(
            "document.getElementById('reason').removeAttribute('minlength');",
            vec![],
        )
        .await
        .unwrap();
        submit(&c, "#confirm-reject").await;
        assert!(text(&c, "#reason-error")
            .await
            .contains("at least 10 characters"));
        assert!(text(&c, "#toast").await.contains("at least 10 characters"));
        shot(&c, "08-reject-reason-refused").await;
        fill(
            &c,
            "#reason",
            "Rollback plan must name the database migration",
        )
        .await;
        submit(&c, "#confirm-reject").await;
        assert!(text(&c, "#toast").await.contains("rejected"));
        assert_eq!(text(&c, "#state").await.to_lowercase(), "rejected");
        assert!(text(&c, "#rejection").await.contains("database migration"));
        shot(&c, "09-detail-rejected").await;
        // A tenant admin's own request: no Approve for them, and one sent
        // anyway is refused (anti-self-approval).
        let own = file(&c, &base, "audit-api").await;
        assert!(!present(&c, "#approve").await && !present(&c, "#reject").await);
        forge(&c, &format!("/requests/{own}/approve"), None).await;
        let toast = text(&c, ".toast.error").await;
        assert!(toast.contains("no self-approval"), "{toast}");
        assert_eq!(text(&c, "#state").await.to_lowercase(), "pending");
        shot(&c, "05-self-approval-refused").await;
        c.goto(&format!("{base}/")).await.unwrap();
        assert_eq!(text(&c, "#stat-approved-today").await, "1");
        assert_eq!(text(&c, "#stat-rejected-today").await, "1");
        assert_eq!(text(&c, "#stat-pending").await, "1");
        shot(&c, "10-list").await;
        c.close().await.unwrap();
        (first, second)
    });

    // What the pages did is in git, by the users who did it.
    let log = repo.git(&["log", "--format=%s|%ae|%(trailers:key=Ipr-Via,valueonly)"]);
    assert!(
        log.contains(&format!("ipr: approve {first}|{TADMIN}|server")),
        "{log}"
    );
    assert!(
        log.contains(&format!("ipr: reject {second}|{TADMIN}|server")),
        "{log}"
    );
    assert!(
        log.contains(&format!("ipr: create {first}|{DEVOPS}|server")),
        "{log}"
    );
    assert!(
        !log.contains(&format!("ipr: approve {first}|{DEVOPS}")),
        "{log}"
    );

    // Without JavaScript: sign in, file, and approve all work.
    rt.block_on(async {
        let c = browser(&driver, false).await;
        sign_in(&c, &base, repo.token(DEVOPS)).await;
        let third = file(&c, &base, "ledger-api").await;
        assert!(text(&c, "#toast").await.contains("filed"));
        sign_out(&c).await;
        sign_in(&c, &base, repo.token(TADMIN)).await;
        c.goto(&format!("{base}/requests/{third}")).await.unwrap();
        click(&c, "#approve summary").await;
        submit(&c, "#confirm-approve").await;
        assert_eq!(text(&c, "#state").await.to_lowercase(), "approved");
        shot(&c, "11-no-javascript-approved").await;
        c.close().await.unwrap();
    });
    let out = repo.ipr(ADMIN, &["verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);
}

/// The pages' locks, over plain HTTP (no browser needed): sign-in needs
/// its form's nonce, sessions are signed and end with their token, forms
/// need the session's CSRF token, and ticket text is escaped.
#[test]
fn sessions_csrf_and_escaping_hold_over_http() {
    use reqwest::blocking::Client as Http;
    let repo = Repo::team("");
    let server = Server::start(&repo, &repo.dir);
    let base = &server.url;
    let http = Http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie_of = |r: &reqwest::blocking::Response, name: &str| -> Option<String> {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with(&format!("{name}=")))
    };
    let value = |set_cookie: &str| set_cookie.split(';').next().unwrap().to_string();
    let field = |html: &str, name: &str| -> String {
        let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap();
        let rest = &html[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()].to_string()
    };
    // Signs in as `token`; the session cookie.
    let sign_in = |token: &str, next: &str| -> reqwest::blocking::Response {
        let page = http.get(format!("{base}/login")).send().unwrap();
        let nonce_cookie = value(&cookie_of(&page, "ipr_login").unwrap());
        let nonce = field(&page.text().unwrap(), "nonce");
        http.post(format!("{base}/login"))
            .header("cookie", nonce_cookie)
            .form(&[("token", token), ("next", next), ("nonce", &nonce)])
            .send()
            .unwrap()
    };

    // No session: to the sign-in page, coming back after.
    let r = http
        .get(format!("{base}/requests/PR-2026-0001"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"],
        "/login?next=%2Frequests%2FPR-2026-0001"
    );
    // A sign-in form from elsewhere (no nonce cookie) is refused.
    let r = http
        .post(format!("{base}/login"))
        .form(&[("token", repo.token(DEVOPS)), ("nonce", "abc")])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(cookie_of(&r, "ipr_session").is_none());
    // A wrong token.
    let r = sign_in("ipr_wrong", "/");
    assert_eq!(r.status().as_u16(), 401);
    assert!(cookie_of(&r, "ipr_session").is_none());
    // The right one: a session cookie, HttpOnly and SameSite=Strict, and
    // back to a path of this server only.
    let r = sign_in(repo.token(DEVOPS), "//evil.example.com/x");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/");
    let set = cookie_of(&r, "ipr_session").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(
        !set.contains(repo.token(DEVOPS)),
        "the cookie never holds the token"
    );
    let devops = value(&set);
    let page = |cookie: &str, path: &str| {
        http.get(format!("{base}{path}"))
            .header("cookie", cookie)
            .send()
            .unwrap()
    };
    let r = page(&devops, "/");
    assert_eq!(r.status().as_u16(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    // A cookie changed by hand is no session.
    let forged = devops.replace("sha256:", "sha256:0");
    assert_eq!(page(&forged, "/").status().as_u16(), 303);

    // Text from a ticket is escaped.
    let mut hostile = new_request();
    hostile["request"]["justification"] =
        json!("<script>alert('x')</script> and <img src=x onerror=alert(1)> in a justification");
    hostile["target"]["name"] = json!("evil\"><b>api");
    let (status, created) = server.post(repo.token(DEVOPS), "/v1/requests/prod", hostile);
    assert_eq!(status, 201, "{created}");
    let id = created["metadata"]["id"].as_str().unwrap().to_string();
    let html = page(&devops, &format!("/requests/{id}")).text().unwrap();
    assert!(html.contains("&#60;script&#62;alert("), "{html}");
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x"));
    let list = page(&devops, "/?q=evil").text().unwrap();
    assert!(
        !list.contains("\"><b>") && list.contains("&#34;&#62;&#60;b&#62;"),
        "{list}"
    );

    // Forms need this session's CSRF token; nothing is committed without.
    let tadmin = value(&cookie_of(&sign_in(repo.token(TADMIN), "/"), "ipr_session").unwrap());
    let before = repo.git(&["rev-list", "--count", "HEAD"]);
    let devops_csrf = field(&page(&devops, "/").text().unwrap(), "csrf");
    for csrf in ["", "00ff", devops_csrf.as_str()] {
        let r = http
            .post(format!("{base}/requests/{id}/approve"))
            .header("cookie", &tadmin)
            .form(&[("csrf", csrf)])
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "csrf {csrf:?}");
    }
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), before);
    let tadmin_csrf = field(
        &page(&tadmin, &format!("/requests/{id}")).text().unwrap(),
        "csrf",
    );
    let r = http
        .post(format!("{base}/requests/{id}/approve"))
        .header("cookie", &tadmin)
        .form(&[("csrf", tadmin_csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/requests/{id}?done=approved").as_str()
    );

    // Removing a token from the config ends its sessions.
    let path = repo.dir.join(".ipr/config.yaml");
    let config = std::fs::read_to_string(&path).unwrap();
    let hash_line = config
        .lines()
        .find(|l| l.contains("sha256:") && l.contains(TADMIN))
        .unwrap()
        .to_string();
    std::fs::write(&path, config.replace(&format!("{hash_line}\n"), "")).unwrap();
    repo.git(&[
        "-c",
        &format!("user.email={ADMIN}"),
        "commit",
        "-q",
        "-am",
        "revoke a token",
    ]);
    assert_eq!(page(&tadmin, "/").status().as_u16(), 303);
    assert_eq!(page(&devops, "/").status().as_u16(), 200);
}
