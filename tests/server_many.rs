//! Several `ipr serve` processes on clones of one remote (SPEC §12: behind
//! a load balancer) lose nothing: every write a server acknowledged is on
//! the remote, once, in a straight history that verifies.

mod server_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};

use serde_json::json;
use server_support::*;

/// Client threads, and the requests each files.
const THREADS: usize = 4;
const CREATES: usize = 5;

/// What the servers answered, by kind.
#[derive(Default)]
struct Outcomes {
    /// Acknowledged creates: (id, server that answered).
    created: Vec<(String, usize)>,
    /// Acknowledged approvals: (id, approver).
    approved: Vec<(String, String)>,
    /// Refusals: (what, status, body).
    refused: Vec<(String, u16, String)>,
}

#[test]
fn two_servers_on_clones_of_one_remote_lose_nothing() {
    let repo = Repo::team("");
    let bare = repo.tmp.path().join("remote.git");
    let bare_s = bare.to_str().unwrap().to_string();
    repo.git_in(
        repo.tmp.path(),
        &["init", "-q", "--bare", "-b", "main", &bare_s],
    );
    repo.git(&["remote", "add", "origin", &bare_s]);
    repo.git(&["push", "-q", "-u", "origin", "main"]);
    let servers: Vec<Server> = ["a", "b"]
        .iter()
        .map(|name| {
            let clone = repo.tmp.path().join(name);
            repo.git_in(
                repo.tmp.path(),
                &["clone", "-q", &bare_s, clone.to_str().unwrap()],
            );
            Server::start(&repo, &clone)
        })
        .collect();
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let token = |email: &str| repo.token(email).to_string();
    let (devops, tadmin, tadmin2) = (token(DEVOPS), token(TADMIN), token(TADMIN2));

    // Each created request goes to two other threads: one approves it as
    // TADMIN on the other server, one as TADMIN2 on the server that
    // created it, so two approvals of one ticket race across servers.
    let (senders, inboxes): (Vec<_>, Vec<_>) = (0..THREADS)
        .map(|_| mpsc::channel::<(String, usize, &'static str)>())
        .unzip();
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let start = Arc::new(Barrier::new(THREADS));
    let mut handles = Vec::new();
    for (t, inbox) in inboxes.into_iter().enumerate() {
        let to_first = senders[(t + 1) % THREADS].clone();
        let to_second = senders[(t + 2) % THREADS].clone();
        let (urls, outcomes, start) = (urls.clone(), outcomes.clone(), start.clone());
        let (devops, tadmin, tadmin2) = (devops.clone(), tadmin.clone(), tadmin2.clone());
        handles.push(std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            let post = |server: usize, token: &str, path: &str, body: serde_json::Value| {
                answer(
                    client
                        .post(format!("{}{path}", urls[server]))
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                        .unwrap(),
                )
            };
            let approve = |id: &str, server: usize, who: &str| {
                let (email, token) = match who {
                    "first" => (TADMIN, &tadmin),
                    _ => (TADMIN2, &tadmin2),
                };
                let on = if who == "first" { 1 - server } else { server };
                let (status, body) = post(
                    on,
                    token,
                    &format!("/v1/requests/prod/{id}/approve"),
                    json!({"comment": format!("approved on server {on}")}),
                );
                let mut o = outcomes.lock().unwrap();
                if (200..300).contains(&status) {
                    o.approved.push((id.to_string(), email.to_string()));
                } else {
                    o.refused
                        .push((format!("approve {id} as {email}"), status, body.to_string()));
                }
            };
            start.wait();
            for k in 0..CREATES {
                let server = (t + k) % 2;
                let mut doc = new_request();
                doc["target"]["version"] = json!(format!("2.{t}.{k}"));
                let (status, body) = post(server, &devops, "/v1/requests/prod", doc);
                if status == 201 {
                    let id = body["metadata"]["id"].as_str().unwrap().to_string();
                    assert_eq!(body["metadata"]["createdBy"], DEVOPS, "{body}");
                    outcomes.lock().unwrap().created.push((id.clone(), server));
                    to_first.send((id.clone(), server, "first")).unwrap();
                    to_second.send((id, server, "second")).unwrap();
                } else {
                    outcomes.lock().unwrap().refused.push((
                        format!("create on server {server}"),
                        status,
                        body.to_string(),
                    ));
                }
                // Approve what has arrived meanwhile, between creates.
                while let Ok((id, server, who)) = inbox.try_recv() {
                    approve(&id, server, who);
                }
            }
            drop((to_first, to_second));
            // The rest, until every creator is done.
            for (id, server, who) in inbox {
                approve(&id, server, who);
            }
        }));
    }
    drop(senders);
    for h in handles {
        h.join().unwrap();
    }
    let o = outcomes.lock().unwrap();
    let logs = || {
        servers
            .iter()
            .map(|s| s.log.lock().unwrap().clone())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };

    // Refusals may only be the documented conflict (409: the remote kept
    // moving past every retry); they are counted, and what was refused
    // must have left nothing behind (checked against the tree below).
    for (what, status, body) in &o.refused {
        assert_eq!(*status, 409, "{what}: {status} {body}\nlogs:\n{}", logs());
    }
    eprintln!(
        "{} creates and {} approvals acknowledged, {} refused with 409",
        o.created.len(),
        o.approved.len(),
        o.refused.len()
    );
    let refused_creates = o
        .refused
        .iter()
        .filter(|r| r.0.starts_with("create"))
        .count();
    assert_eq!(o.created.len() + refused_creates, THREADS * CREATES);
    assert_eq!(
        o.approved.len() + o.refused.len() - refused_creates,
        2 * o.created.len()
    );
    // Both servers answered creates.
    assert!(o.created.iter().any(|(_, s)| *s == 0));
    assert!(o.created.iter().any(|(_, s)| *s == 1));

    // Every acknowledged create has its own ID.
    let ids: BTreeSet<&str> = o.created.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), o.created.len(), "{:?}", o.created);

    // Every acknowledged action is a commit of the remote's branch, once,
    // and the history is straight.
    let history = repo.git_in(
        &bare,
        &[
            "log",
            "--format=%(trailers:key=Ipr-Action,valueonly,separator=)|%(trailers:key=Ipr-Request,valueonly,separator=)|%(trailers:key=Ipr-Actor,valueonly,separator=)",
            "main",
        ],
    );
    let mut on_remote: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for line in history.lines().filter(|l| !l.trim().is_empty()) {
        let mut f = line.split('|').map(|s| s.trim().to_string());
        let key = (
            f.next().unwrap_or_default(),
            f.next().unwrap_or_default(),
            f.next().unwrap_or_default(),
        );
        *on_remote.entry(key).or_default() += 1;
    }
    for (id, _) in &o.created {
        let key = ("create".to_string(), id.clone(), DEVOPS.to_string());
        assert_eq!(on_remote.get(&key), Some(&1), "{key:?} in\n{history}");
    }
    for (id, who) in &o.approved {
        let key = ("approve".to_string(), id.clone(), who.clone());
        assert_eq!(on_remote.get(&key), Some(&1), "{key:?} in\n{history}");
    }
    let ipr_commits: usize = on_remote
        .iter()
        .filter(|((action, _, _), _)| action == "create" || action == "approve")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        ipr_commits,
        o.created.len() + o.approved.len(),
        "nothing the servers did not acknowledge:\n{history}"
    );
    assert_eq!(
        repo.git_in(&bare, &["rev-list", "--merges", "main"]).trim(),
        "",
        "no merge commits"
    );

    // A fresh clone verifies, holds each ID in one file, and every request
    // has its two approvals.
    let fresh = repo.tmp.path().join("fresh");
    repo.git_in(
        repo.tmp.path(),
        &["clone", "-q", &bare_s, fresh.to_str().unwrap()],
    );
    let out = repo.ipr_in(&fresh, ADMIN, &["verify"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let files = repo.git_in(&fresh, &["ls-files", "requests/prod"]);
    let mut in_tree: BTreeMap<String, usize> = BTreeMap::new();
    for f in files.lines() {
        let name = f.rsplit('/').next().unwrap();
        *in_tree
            .entry(name.trim_end_matches(".yaml").to_string())
            .or_default() += 1;
    }
    assert!(in_tree.values().all(|n| *n == 1), "{in_tree:?}");
    assert_eq!(
        in_tree.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        ids,
        "the tree holds exactly the acknowledged requests"
    );

    // Reads follow the remote: either server shows every request approved.
    for server in &servers {
        let (status, list) = server.get(Some(repo.token(ADMIN)), "/v1/requests/prod");
        assert_eq!(status, 200, "{list}");
        let states: BTreeMap<&str, &str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["metadata"]["id"].as_str().unwrap(),
                    t["status"]["state"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(states.keys().copied().collect::<BTreeSet<_>>(), ids);
        for (id, state) in &states {
            let approvals = o.approved.iter().filter(|(a, _)| a == id).count();
            let expected = if approvals == 2 {
                "approved"
            } else {
                "pending"
            };
            assert_eq!(*state, expected, "{id}: {approvals} approvals acknowledged");
        }
    }
}
