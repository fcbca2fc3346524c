//! `ipr serve` over real HTTP: the real binary serving a real clone,
//! answered the same as the CLI for the same user, with every rule held.

mod server_support;

use std::process::Command;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use server_support::*;

#[test]
fn the_api_answers_as_the_cli_does_for_the_same_user() {
    let repo = Repo::team("");
    let server = Server::start(&repo, &repo.dir);
    let (status, created) = server.post(repo.token(DEVOPS), "/v1/requests/prod", new_request());
    assert_eq!(status, 201, "{created}");
    let id = created["metadata"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["metadata"]["createdBy"], DEVOPS);
    // A commit by the user, made by the server.
    let log = repo.git(&["log", "-1", "--format=%an <%ae>|%ce|%B"]);
    assert!(
        log.starts_with(&format!(
            "pierre.durand <{DEVOPS}>|{DEVOPS}|ipr: create {id}"
        )),
        "{log}"
    );
    assert!(log.contains("Ipr-Via: server"), "{log}");

    let (_, approved) = server.post(
        repo.token(TADMIN),
        &format!("/v1/requests/prod/{id}/approve"),
        json!({"comment": "LGTM"}),
    );
    assert_eq!(
        approved["status"]["state"], "pending",
        "high impact: 1 of 2"
    );
    for user in [TADMIN, TADMIN2, DEVOPS, ADMIN] {
        let t = Some(repo.token(user));
        assert_eq!(
            server.get(t, "/v1/requests/prod").1,
            cli_json(&repo, user, &["list", "--format", "json"]),
            "{user}"
        );
        assert_eq!(
            server.get(t, "/v1/requests/prod/pending").1,
            cli_json(&repo, user, &["list", "--pending", "--format", "json"]),
            "{user}"
        );
        assert_eq!(
            server.get(t, "/v1/requests/prod/my").1,
            cli_json(&repo, user, &["list", "--mine", "--format", "json"]),
            "{user}"
        );
        assert_eq!(
            server.get(t, "/v1/requests/prod/stats").1,
            cli_json(&repo, user, &["stats", "--format", "json"])
        );
    }
    assert_eq!(
        server
            .get(
                Some(repo.token(TADMIN)),
                "/v1/requests/prod?state=pending&tenant=tenant-finance"
            )
            .1,
        cli_json(
            &repo,
            TADMIN,
            &[
                "list",
                "--state",
                "pending",
                "--tenant",
                "tenant-finance",
                "--format",
                "json"
            ]
        )
    );
    assert_eq!(
        server
            .get(Some(repo.token(TADMIN)), &format!("/v1/requests/prod/{id}"))
            .1,
        cli_json(&repo, TADMIN, &["show", &id, "--format", "json"])
    );
    let (status, log) = server.get(
        Some(repo.token(TADMIN)),
        &format!("/v1/requests/prod/{id}/log"),
    );
    assert_eq!(status, 200);
    assert_eq!(log.as_array().unwrap().len(), 2);
    // The second approval completes the quorum.
    let (status, t) = server.post(
        repo.token(TADMIN2),
        &format!("/v1/requests/prod/{id}/approve"),
        json!({}),
    );
    assert_eq!(
        (status, t["status"]["state"].clone()),
        (200, json!("approved"))
    );
    // And the history verifies.
    let out = repo.ipr(ADMIN, &["verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_token_a_wrong_token_or_a_removed_user_gets_401() {
    let repo = Repo::team("  trustedHeader: X-Forwarded-Email\n  trustedProxies: [10.9.9.9]\n");
    let server = Server::start(&repo, &repo.dir);
    let r = Client::new()
        .get(format!("{}/v1/requests/prod", server.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let body: Value = r.json().unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert!(body["detail"].as_str().unwrap().contains("Bearer"));
    assert_eq!(
        server
            .get(Some("ipr_not-a-real-token"), "/v1/requests/prod")
            .0,
        401
    );
    // Rita works until an admin removes her (and her token): then 401.
    assert_eq!(
        server.get(Some(repo.token(RITA)), "/v1/requests/prod").0,
        200
    );
    let config = std::fs::read_to_string(repo.dir.join(".ipr/config.yaml")).unwrap();
    let config: String = config
        .lines()
        .filter(|l| !l.contains(RITA))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(repo.dir.join(".ipr/config.yaml"), config).unwrap();
    repo.git(&[
        "-c",
        &format!("user.email={ADMIN}"),
        "commit",
        "-q",
        "-am",
        "rita left",
    ]);
    assert_eq!(
        server.get(Some(repo.token(RITA)), "/v1/requests/prod").0,
        401
    );
    // The proxy header is believed only from a trusted proxy (127.0.0.1 is not one).
    let r = Client::new()
        .get(format!("{}/v1/requests/prod", server.url))
        .header("X-Forwarded-Email", ADMIN)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Tokens appear nowhere: not in history, not in the server's log.
    let history = repo.git(&["log", "-p", "--all"]);
    let log = server.log.lock().unwrap().clone();
    for (_, token) in &repo.tokens {
        assert!(!history.contains(token.as_str()));
        assert!(!log.contains(token.as_str()));
    }
}

#[test]
fn a_trusted_proxy_may_name_the_user() {
    let repo = Repo::team("  trustedHeader: X-Forwarded-Email\n  trustedProxies: [127.0.0.1]\n");
    let server = Server::start(&repo, &repo.dir);
    let r = Client::new()
        .get(format!("{}/v1/requests/prod/stats", server.url))
        .header("X-Forwarded-Email", TADMIN)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = Client::new()
        .get(format!("{}/v1/requests/prod/stats", server.url))
        .header("X-Forwarded-Email", "stranger@example.com")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // A header given twice (a proxy that appends rather than replaces) is
    // not believed.
    let r = Client::new()
        .get(format!("{}/v1/requests/prod/stats", server.url))
        .header("X-Forwarded-Email", TADMIN)
        .header("X-Forwarded-Email", ADMIN)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[test]
fn every_rule_of_the_cli_holds_with_the_documented_status() {
    let repo = Repo::team("");
    let server = Server::start(&repo, &repo.dir);
    let (_, created) = server.post(repo.token(DEVOPS), "/v1/requests/prod", new_request());
    let id = created["metadata"]["id"].as_str().unwrap().to_string();
    let head = repo.git(&["rev-parse", "HEAD"]);
    let path = |verb: &str| format!("/v1/requests/prod/{id}/{verb}");

    // Self-approval and a viewer: 403, nothing committed.
    let (status, body) = server.post(repo.token(DEVOPS), &path("approve"), json!({}));
    assert_eq!(
        (status, body["code"].clone()),
        (403, json!("forbidden")),
        "{body}"
    );
    // A reason too short: 422; a missing one too.
    let (status, body) = server.post(repo.token(TADMIN), &path("reject"), json!({"reason": "no"}));
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("at least 10 characters"));
    assert_eq!(
        server
            .post(repo.token(TADMIN), &path("reject"), json!({}))
            .0,
        422
    );
    // An invalid document: 422 with the field; malformed JSON: 400.
    let mut bad = new_request();
    bad["target"]["name"] = json!("");
    let (status, body) = server.post(repo.token(DEVOPS), "/v1/requests/prod", bad);
    assert_eq!(status, 422, "{body}");
    let r = Client::new()
        .post(format!("{}/v1/requests/prod", server.url))
        .bearer_auth(repo.token(DEVOPS))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Writes take JSON only (no cross-site form posts): 415.
    let r = Client::new()
        .post(format!("{}{}", server.url, path("approve")))
        .bearer_auth(repo.token(TADMIN))
        .header("content-type", "text/plain")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    // Unknown fields and unknown query parameters: 400.
    assert_eq!(
        server
            .post(
                repo.token(TADMIN),
                &path("approve"),
                json!({"coment": "typo"})
            )
            .0,
        400
    );
    assert_eq!(
        server
            .get(Some(repo.token(TADMIN)), "/v1/requests/prod?status=pending")
            .0,
        400
    );
    assert_eq!(
        server
            .get(Some(repo.token(TADMIN)), "/v1/requests/prod?state=bogus")
            .0,
        400
    );
    // Over 1 MiB: refused.
    let r = Client::new()
        .post(format!("{}/v1/requests/prod", server.url))
        .bearer_auth(repo.token(DEVOPS))
        .body(vec![b' '; 1024 * 1024 + 1])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().unwrap();
    assert_eq!(
        body["code"], "too-large",
        "every error is the JSON error body"
    );
    // Unknown request: 404.
    assert_eq!(
        server
            .get(Some(repo.token(TADMIN)), "/v1/requests/prod/PR-2026-9999")
            .0,
        404
    );
    assert_eq!(
        server
            .get(Some(repo.token(TADMIN)), "/v1/requests/prod/nonsense")
            .0,
        404
    );
    assert_eq!(
        repo.git(&["rev-parse", "HEAD"]),
        head,
        "nothing was committed"
    );
    // One approval per person: 403, as the CLI's exit 3.
    assert_eq!(
        server
            .post(repo.token(TADMIN), &path("approve"), json!({}))
            .0,
        200
    );
    let (status, body) = server.post(repo.token(TADMIN), &path("approve"), json!({}));
    assert_eq!(status, 403, "{body}");
    // Cancel by the requester; then approving is a wrong state: 409.
    let (status, body) = server.post(
        repo.token(DEVOPS),
        &path("cancel"),
        json!({"reason": "superseded"}),
    );
    assert_eq!(
        (status, body["status"]["state"].clone()),
        (200, json!("cancelled")),
        "{body}"
    );
    let (status, body) = server.post(repo.token(TADMIN2), &path("approve"), json!({}));
    assert_eq!(
        (status, body["code"].clone()),
        (409, json!("conflict")),
        "{body}"
    );
}

#[test]
fn with_a_remote_writes_land_there_first_and_reads_follow_it() {
    let repo = Repo::team("");
    let bare = repo.tmp.path().join("remote.git");
    repo.git_in(
        repo.tmp.path(),
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
    );
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    repo.git(&["push", "-q", "-u", "origin", "main"]);
    let served = repo.tmp.path().join("served");
    repo.git_in(
        repo.tmp.path(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            served.to_str().unwrap(),
        ],
    );
    let server = Server::start(&repo, &served);
    let (status, created) = server.post(repo.token(DEVOPS), "/v1/requests/prod", new_request());
    assert_eq!(status, 201, "{created}");
    let id = created["metadata"]["id"].as_str().unwrap().to_string();
    let on_remote = repo.git_in(&bare, &["log", "-1", "--format=%s", "main"]);
    assert_eq!(on_remote.trim(), format!("ipr: create {id}"));
    // Someone approves from their own clone; the server sees it.
    repo.git(&["pull", "-q"]);
    let out = repo.ipr(TADMIN, &["approve", &id, "--push"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, t) = server.get(Some(repo.token(TADMIN)), &format!("/v1/requests/prod/{id}"));
    assert_eq!(t["status"]["history"].as_array().unwrap().len(), 2, "{t}");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let repo = Repo::team("");
    let mut server = Server::start(&repo, &repo.dir);
    assert_eq!(server.get(None, "/healthz").0, 200);
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// With its own ssh key, the server commits as `server.identity` for the
/// authenticated author and signs; `git verify-commit` and `ipr verify`
/// accept that, and refuse the same commit unsigned or committed by
/// anyone else.
#[test]
fn the_server_vouches_for_authors_with_its_signature_and_verify_holds_it_to_that() {
    const SERVER: &str = "ipr-server@example.com";
    let repo = Repo::team(&format!("  identity: {SERVER}\n"));
    let key = repo.tmp.path().join("server_key");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "ipr-server", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (.ci/run installs openssh-client)");
    assert!(out.status.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    std::fs::write(
        repo.dir.join(".ipr/allowed_signers"),
        format!("{SERVER} {public}"),
    )
    .unwrap();
    repo.git(&["add", ".ipr/allowed_signers"]);
    repo.git(&[
        "-c",
        &format!("user.email={ADMIN}"),
        "commit",
        "-q",
        "-m",
        "the server's key",
    ]);

    let mut child = isolated(ipr(), &repo.home());
    child
        .arg("-C")
        .arg(&repo.dir)
        .args(["serve", "--listen", "127.0.0.1:0", "--signing-key"])
        .arg(&key);
    let server = Server::spawn(child);
    let (status, created) = server.post(repo.token(DEVOPS), "/v1/requests/prod", new_request());
    assert_eq!(status, 201, "{created}");
    let id = created["metadata"]["id"].as_str().unwrap().to_string();
    let who = repo.git(&["log", "-1", "--format=%ae|%ce|%G?"]);
    assert_eq!(
        who.trim(),
        format!("{DEVOPS}|{SERVER}|N"),
        "signed (git needs allowed signers to say G)"
    );
    let checked = isolated("git", &repo.home())
        .current_dir(&repo.dir)
        .args([
            "-c",
            "gpg.ssh.allowedSignersFile=.ipr/allowed_signers",
            "verify-commit",
            "HEAD",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success() && said.contains(SERVER), "{said}");
    let (status, _) = server.post(
        repo.token(TADMIN),
        &format!("/v1/requests/prod/{id}/approve"),
        json!({}),
    );
    assert_eq!(status, 200);
    let out = repo.ipr(ADMIN, &["verify"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);

    // The same approval, unsigned, and committed by someone else.
    let good = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let message = repo.git(&["log", "-1", "--format=%B"]);
    for (committer, rule) in [(SERVER, "unsigned"), (TADMIN2, "committer-mismatch")] {
        let forged = isolated("git", &repo.home())
            .current_dir(&repo.dir)
            .env("GIT_AUTHOR_NAME", "jean.dupont")
            .env("GIT_AUTHOR_EMAIL", TADMIN)
            .env("GIT_COMMITTER_NAME", "someone")
            .env("GIT_COMMITTER_EMAIL", committer)
            .args(["commit-tree", "HEAD^{tree}", "-p", "HEAD~1", "-m", &message])
            .output()
            .unwrap();
        let forged = String::from_utf8(forged.stdout).unwrap().trim().to_string();
        repo.git(&["update-ref", "refs/heads/main", &forged]);
        let out = repo.ipr(ADMIN, &["verify"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(7), "{committer}: {text}");
        assert!(text.contains(rule), "{committer}: {text}");
        repo.git(&["update-ref", "refs/heads/main", &good]);
    }

    // Even signed by the server's key, a change of .ipr/ is never the
    // server's to vouch for (the key would otherwise forge an admin).
    repo.git(&["reset", "-q", "--hard", &good]);
    let config = std::fs::read_to_string(repo.dir.join(".ipr/config.yaml")).unwrap();
    std::fs::write(
        repo.dir.join(".ipr/config.yaml"),
        config.replace("  default: 1\n", "  default: 0\n"),
    )
    .unwrap();
    let out = isolated("git", &repo.home())
        .current_dir(&repo.dir)
        .env("GIT_AUTHOR_NAME", "ops")
        .env("GIT_AUTHOR_EMAIL", ADMIN)
        .env("GIT_COMMITTER_NAME", "ipr server")
        .env("GIT_COMMITTER_EMAIL", SERVER)
        .args(["-c", "gpg.format=ssh", "-c"])
        .arg(format!("user.signingkey={}", key.display()))
        .args([
            "commit",
            "-q",
            "-S",
            "-am",
            "ipr: config\n\nIpr-Action: config\nIpr-Via: server",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = repo.ipr(ADMIN, &["verify"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(7), "{text}");
    assert!(
        text.contains("committer-mismatch") && text.contains(".ipr/config.yaml"),
        "{text}"
    );
}

/// A hand edit that breaks verify rules: the API still answers (as the
/// CLI does), and says so in `Ipr-Warning`, as the CLI's `warning:` line.
#[test]
fn reads_warn_when_history_does_not_verify() {
    let repo = Repo::team("");
    let server = Server::start(&repo, &repo.dir);
    let (_, created) = server.post(repo.token(DEVOPS), "/v1/requests/prod", new_request());
    let id = created["metadata"]["id"].as_str().unwrap().to_string();
    let path = repo
        .git(&["ls-files", "requests"])
        .lines()
        .find(|l| l.ends_with(&format!("{id}.yaml")))
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(repo.dir.join(&path)).unwrap();
    std::fs::write(
        repo.dir.join(&path),
        text.replace("state: pending", "state: approved"),
    )
    .unwrap();
    repo.git(&[
        "-c",
        &format!("user.email={DEVOPS}"),
        "commit",
        "-q",
        "-am",
        "approve it myself",
    ]);
    let r = Client::new()
        .get(format!("{}/v1/requests/prod", server.url))
        .bearer_auth(repo.token(TADMIN))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let warning = r.headers().get("ipr-warning").expect("a warning header");
    assert!(warning.to_str().unwrap().contains("verify"), "{warning:?}");
    // And no write acts on it.
    let (status, body) = server.post(
        repo.token(TADMIN),
        &format!("/v1/requests/prod/{id}/approve"),
        json!({}),
    );
    assert_eq!(
        (status, body["code"].clone()),
        (409, json!("untrusted-history")),
        "{body}"
    );
}

/// `/openapi.json` describes exactly what is served: every documented
/// operation is answered by a route (never the fallback), and every route
/// is documented.
#[test]
fn the_openapi_document_names_every_route_and_only_those() {
    let repo = Repo::team("");
    let server = Server::start(&repo, &repo.dir);
    let (status, doc) = server.get(None, "/openapi.json");
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut served: Vec<(String, String)> = ipr::server::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    served.sort();
    assert_eq!(documented, served);
    for (method, path) in &documented {
        let url = format!("{}{}", server.url, path.replace("{id}", "PR-2026-0001"));
        let r = match method.as_str() {
            "get" => Client::new().get(url),
            "post" => Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body("{}"),
            other => panic!("{other}"),
        }
        .send()
        .unwrap();
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        assert!(
            status != 405 && !body.contains("no such endpoint"),
            "{method} {path}: {status} {body}"
        );
    }
    // Every $ref the document uses resolves.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap();
        let mut node = &doc;
        for part in target.trim_start_matches("#/").split('/') {
            node = &node[part];
        }
        assert!(!node.is_null(), "{target} does not resolve");
    }
    assert_eq!(server.get(None, "/v2/nothing").0, 404);
}
