use super::*;
use graphtoken_core::model::{AppId, AppMode, Platform, UserId};
use graphtoken_core::permissions;
use graphtoken_core::tasks::Task::*;
use graphtoken_core::tasks::{PageRole, Task, TaskSet};

/// The `file:line: problem` message for `text`, which must not parse.
fn error(text: &str) -> String {
    match parse("w.toml", text) {
        Ok(world) => format!("parsed: {world:?}"),
        Err(e) => e.to_string(),
    }
}

fn ok(text: &str) -> Result<World, SeedError> {
    parse("w.toml", text)
}

/// A reference as the tests write it: its text and line.
fn r(text: &str, line: u32) -> (String, u32) {
    (text.to_owned(), line)
}

/// Where a reference was written, as `(text, line)`.
fn at<K>(w: &World, r: &Ref<K>) -> (String, u32) {
    (r.text.clone(), w.lines.line(r.at))
}

/// The line of an item's header.
fn line<T>(w: &World, item: &Item<T>) -> u32 {
    w.lines.line(item.at)
}

/// Who holds which tasks on the `i`th Page, with the lines of the references.
fn holders(w: &World, i: usize) -> Vec<((String, u32), TaskSet)> {
    w.pages[i]
        .task_holders()
        .map(|(u, t)| (at(w, u), t))
        .collect()
}

const FULL: &str = r#"# a comment
[[apps]]
key = "acme"
id = "1000000000000001"
name = "Acme Social"
secret = "s3cret"
client_token = "ct"
redirect_uris = ["http://localhost:3000/cb"]
deauthorize_callback_url = "https://acme.example/deauth"
roles = { administrators = ["alice"], testers = ["carol", "100000000000999"], developers = ["bob"] }

[[apps]]
id = 1000000000000002
name = "Live One"
mode = "live"
platform = "native"
require_appsecret_proof = true
advanced_access = ["email", "pages_show_list"]

[[users]]
key = "alice"
id = "100000000000101"
name = "Alice A"
email = "alice@example.com"
password = "pw"

[[users]]
key = "bob"
name = "Bob B"

[[users]]
key = "carol"
name = "Carol C"

[[pages]]
key = "coffee"
id = "200000000000001"
name = "Coffee"
category = "Coffee Shop"
roles = { alice = "Admin", bob = "Editor", carol = "Analyst" }

[[pages]]
key = "news"
name = "News"
[pages.tasks]
alice = ["MANAGE", "ANALYZE"]
"100000000000999" = ["MODERATE"]

[[grants]]
user = "alice"
app = "acme"
granted = ["email", "public_profile"]

[[grants]]
user = "bob"
app = "1000000000000002"
declined = ["email"]
"#;

#[test]
fn a_full_world_parses() -> Result<(), SeedError> {
    let w = ok(FULL)?;
    assert_eq!(w.source, "w.toml");
    assert_eq!(w.apps.len(), 2);

    let a = &w.apps[0];
    assert_eq!(line(&w, a), 2);
    assert_eq!(a.key.as_deref(), Some("acme"));
    assert_eq!(a.id, Some(AppId(1_000_000_000_000_001)));
    assert_eq!(a.name, "Acme Social");
    assert_eq!(a.secret.as_deref(), Some("s3cret"));
    assert_eq!(a.client_token.as_deref(), Some("ct"));
    assert_eq!(a.mode, AppMode::Development);
    assert_eq!(a.platform, Platform::Web);
    assert!(!a.require_appsecret_proof);
    assert_eq!(a.redirect_uris, ["http://localhost:3000/cb"]);
    assert!(a.advanced_access.is_empty());
    assert_eq!(
        a.deauthorize_callback_url.as_deref(),
        Some("https://acme.example/deauth")
    );
    // Sorted administrators, developers, testers; file order within a role.
    assert_eq!(
        a.roles
            .iter()
            .map(|(u, role)| (at(&w, u), *role))
            .collect::<Vec<_>>(),
        vec![
            (r("alice", 10), AppRole::Administrator),
            (r("bob", 10), AppRole::Developer),
            (r("carol", 10), AppRole::Tester),
            (r("100000000000999", 10), AppRole::Tester),
        ]
    );

    let b = &w.apps[1];
    assert_eq!(line(&w, b), 12);
    assert_eq!(b.key, None);
    assert_eq!(b.id, Some(AppId(1_000_000_000_000_002)));
    assert_eq!(b.mode, AppMode::Live);
    assert_eq!(b.platform, Platform::Native);
    assert!(b.require_appsecret_proof);
    assert_eq!(b.advanced_access, ["email", "pages_show_list"]);
    assert_eq!(b.secret, None);
    assert!(b.roles.is_empty());

    assert_eq!(w.users.len(), 3);
    let u = &w.users[0];
    assert_eq!(line(&w, u), 20);
    assert_eq!(u.key.as_deref(), Some("alice"));
    assert_eq!(u.id, Some(UserId(100_000_000_000_101)));
    assert_eq!(u.name, "Alice A");
    assert_eq!(u.email.as_deref(), Some("alice@example.com"));
    assert_eq!(u.password.as_deref(), Some("pw"));
    assert_eq!(w.users[1].id, None);
    assert_eq!(w.users[1].email, None);
    assert_eq!(w.users[1].password, None);

    assert_eq!(w.pages.len(), 2);
    let p = &w.pages[0];
    assert_eq!(line(&w, p), 35);
    assert_eq!(p.category, "Coffee Shop");
    assert_eq!(
        holders(&w, 0),
        vec![
            (r("alice", 40), PageRole::Admin.tasks()),
            (r("bob", 40), PageRole::Editor.tasks()),
            (r("carol", 40), TaskSet::of(&[Analyze])),
        ]
    );
    let n = &w.pages[1];
    assert_eq!(line(&w, n), 42);
    assert_eq!(n.id, None);
    assert_eq!(n.category, DEFAULT_CATEGORY);
    assert_eq!(
        holders(&w, 1),
        vec![
            (r("alice", 46), TaskSet::of(&[Manage, Analyze])),
            (r("100000000000999", 47), TaskSet::of(&[Moderate])),
        ]
    );

    assert_eq!(w.grants.len(), 2);
    let g = &w.grants[0];
    assert_eq!(line(&w, g), 49);
    assert_eq!(at(&w, &g.user), r("alice", 50));
    assert_eq!(at(&w, &g.app), r("acme", 51));
    assert_eq!(g.granted, ["email", "public_profile"]);
    assert!(g.declined.is_empty());
    let g = &w.grants[1];
    assert_eq!(at(&w, &g.app), r("1000000000000002", 56));
    assert_eq!(g.permissions_granted(), ["public_profile"]);
    assert_eq!(g.declined, ["email"]);
    Ok(())
}

#[test]
fn an_empty_file_is_an_empty_world() -> Result<(), SeedError> {
    for text in ["", "\n\n", "# nothing here\n", "apps = []\n"] {
        let w = ok(text)?;
        assert!(w.apps.is_empty() && w.users.is_empty());
        assert!(w.pages.is_empty() && w.grants.is_empty());
        assert_eq!(w.source, "w.toml");
    }
    Ok(())
}

#[test]
fn page_roles_become_the_spec_tasks() -> Result<(), SeedError> {
    let w = ok(r#"
[[users]]
key = "u"
name = "U"
[[pages]]
key = "p"
name = "P"
[pages.roles]
u = "Moderator"
9 = "Advertiser"
"#)?;
    let tasks = holders(&w, 0);
    assert_eq!(
        tasks[0].1,
        TaskSet::of(&[Moderate, Messaging, Advertise, Analyze])
    );
    assert_eq!(tasks[1].0, r("9", 10));
    assert_eq!(tasks[1].1, TaskSet::of(&[Advertise, Analyze]));
    assert_eq!(
        PageRole::Admin.tasks(),
        TaskSet::of(&[
            Manage,
            CreateContent,
            Moderate,
            Messaging,
            Advertise,
            Analyze
        ])
    );
    Ok(())
}

#[test]
fn public_profile_is_always_granted_first_unless_written() -> Result<(), SeedError> {
    let w = ok(r#"
[[grants]]
user = "1"
app = "2"
granted = ["email"]
[[grants]]
user = "1"
app = "3"
granted = ["email", "public_profile"]
"#)?;
    assert_eq!(w.grants[0].granted, ["email"]);
    assert_eq!(
        w.grants[0].permissions_granted(),
        ["public_profile", "email"]
    );
    assert_eq!(
        w.grants[1].permissions_granted(),
        ["email", "public_profile"]
    );
    Ok(())
}

#[test]
fn numeric_references_pass_through() -> Result<(), SeedError> {
    let w = ok(r#"
[[apps]]
key = "a"
name = "A"
roles = { developers = ["100000000000007", 42] }
[[grants]]
user = 100000000000007
app = "555"
"#)?;
    assert_eq!(
        w.apps[0]
            .roles
            .iter()
            .map(|(u, role)| (at(&w, u), *role))
            .collect::<Vec<_>>(),
        vec![
            (r("100000000000007", 5), AppRole::Developer),
            (r("42", 5), AppRole::Developer),
        ]
    );
    assert_eq!(at(&w, &w.grants[0].user), r("100000000000007", 7));
    assert_eq!(at(&w, &w.grants[0].app), r("555", 8));
    Ok(())
}

#[test]
fn ids_may_be_integers_and_must_fit_in_63_bits() -> Result<(), SeedError> {
    let w = ok("[[users]]\nid = 9223372036854775807\nname = \"Max\"\n")?;
    assert_eq!(w.users[0].id, Some(UserId(9_223_372_036_854_775_807)));
    let w = ok("[[users]]\nid = \"9223372036854775807\"\nname = \"Max\"\n")?;
    assert_eq!(w.users[0].id, Some(UserId(i64::MAX as u64)));
    for bad in [
        "\"9223372036854775808\"",
        "0",
        "\"0\"",
        "-5",
        "\"012\"",
        "\"12a\"",
        "\"\"",
    ] {
        let e = error(&format!("[[users]]\nid = {bad}\nname = \"X\"\n"));
        assert!(e.starts_with("w.toml:2: "), "{bad}: {e}");
    }
    assert_eq!(
        error("[[users]]\nid = \"0\"\nname = \"X\"\n"),
        "w.toml:2: `0` is not a valid id: it must be a positive number that fits in 63 bits, written in digits without leading zeros"
    );
    assert_eq!(
        error("[[users]]\nid = 1.5\nname = \"X\"\n"),
        "w.toml:2: invalid type: floating point `1.5`, expected a string of digits like \"1000000000000001\""
    );
    Ok(())
}

#[test]
fn unknown_fields_are_errors() {
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\n\ncolour = \"red\"\n"),
        "w.toml:5: unknown field `colour`, expected one of `key`, `id`, `name`, `secret`, \
         `client_token`, `mode`, `platform`, `require_appsecret_proof`, `redirect_uris`, \
         `advanced_access`, `deauthorize_callback_url`, `data_deletion_url`, \
         `review_approved_at`, `roles`, `rate_limits`, `test_user_limit`"
    );
    assert_eq!(
        error("[[users]]\nkey = \"a\"\nname = \"A\"\npasswd = \"x\"\n"),
        "w.toml:4: unknown field `passwd`, expected one of `key`, `id`, `name`, `email`, `password`"
    );
    assert_eq!(
        error("[[grants]]\nuser = \"1\"\napp = \"2\"\nscopes = []\n"),
        "w.toml:4: unknown field `scopes`, expected one of `user`, `app`, `granted`, `declined`"
    );
    assert_eq!(
        error("\n[[app]]\nkey = \"a\"\n"),
        "w.toml:2: unknown field `app`, expected one of `apps`, `users`, `pages`, `grants`, `posts`, `messages`"
    );
}

#[test]
fn wrong_types_are_errors() {
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = 7\n"),
        "w.toml:3: invalid type: integer `7`, expected a string"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\nrequire_appsecret_proof = \"yes\"\n"),
        "w.toml:4: invalid type: string \"yes\", expected a boolean"
    );
    assert_eq!(
        error(
            "[[apps]]\nkey = \"a\"\nname = \"A\"\nredirect_uris = [\n  \"http://x/cb\",\n  3,\n]\n"
        ),
        "w.toml:6: invalid type: integer `3`, expected a URL (a string)"
    );
    assert_eq!(
        error("[apps]\nkey = \"a\"\n"),
        "w.toml:1: invalid type: map, expected a sequence"
    );
    assert_eq!(
        error("[[users]]\nkey = \"\"\nname = \"A\"\n"),
        "w.toml:2: the value must not be empty"
    );
    assert_eq!(
        error("[[users]]\nkey = \"u\"\nname = \"A\"\nemail = \"nope\"\n"),
        "w.toml:4: `nope` is not an email address"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\nredirect_uris = [\"localhost/cb\"]\n"),
        "w.toml:4: `localhost/cb` is not an absolute URL like https://example.com/callback"
    );
}

#[test]
fn required_fields() {
    assert_eq!(
        error("\n[[users]]\nname = \"A\"\n"),
        "w.toml:2: [[users]] item needs a `key` or an `id`"
    );
    assert_eq!(
        error("[[pages]]\nkey = \"p\"\n"),
        "w.toml:1: missing field `name`"
    );
    assert_eq!(
        error("[[grants]]\nuser = \"1\"\n"),
        "w.toml:1: missing field `app`"
    );
    assert_eq!(
        error("[[users]]\nkey = \"123\"\nname = \"A\"\n"),
        "w.toml:2: key `123` is all digits and would be read as an id; put the number in `id` or use a key with a letter in it"
    );
}

#[test]
fn names_are_checked_against_the_catalogues() {
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\nadvanced_access = [\"email\", \"manage_pagez\"]\n"),
        "w.toml:4: unknown permission `manage_pagez`"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\nmode = \"production\"\n"),
        "w.toml:4: unknown app mode `production`; expected development or live"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\nplatform = \"ios\"\n"),
        "w.toml:4: unknown platform `ios`; expected web or native"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\n[apps.roles]\nowners = [\"1\"]\n"),
        "w.toml:5: unknown app role `owners`; expected one of administrators, developers, testers"
    );
    assert_eq!(
        error("[[pages]]\nkey = \"p\"\nname = \"P\"\n[pages.tasks]\nu = [\"ANALYZE\",\n  \"MANAGES\"]\n"),
        "w.toml:6: unknown task `MANAGES`; expected one of ADVERTISE, ANALYZE, CREATE_CONTENT, MANAGE, MESSAGING, MODERATE"
    );
    assert_eq!(
        error("[[pages]]\nkey = \"p\"\nname = \"P\"\nroles = { \"1\" = \"Owner\" }\n"),
        "w.toml:4: unknown role `Owner`; expected one of Admin, Editor, Moderator, Advertiser, Analyst"
    );
    assert_eq!(
        error("[[pages]]\nkey = \"p\"\nname = \"P\"\ntasks = { \"1\" = [] }\n"),
        "w.toml:4: empty task list; leave the person out to give them no tasks"
    );
    assert_eq!(
        error("[[grants]]\nuser = \"1\"\napp = \"2\"\ngranted = [\"email\", \"email\"]\n"),
        "w.toml:4: permission `email` is listed twice"
    );
}

#[test]
fn page_with_both_tasks_and_roles() {
    assert_eq!(
        error("[[pages]]\nkey = \"p\"\nname = \"P\"\ntasks = { \"1\" = [\"MANAGE\"] }\nroles = { \"2\" = \"Admin\" }\n"),
        "w.toml:1: page has both tasks and roles; give each person either tasks or a role, in one of the two tables"
    );
}

#[test]
fn declines() {
    assert_eq!(
        error("[[grants]]\nuser = \"1\"\napp = \"2\"\ngranted = [\"email\"]\ndeclined = [\"email\"]\n"),
        "w.toml:1: permission `email` is both granted and declined"
    );
    assert_eq!(
        error("[[grants]]\nuser = \"1\"\napp = \"2\"\ndeclined = [\"public_profile\"]\n"),
        "w.toml:1: `public_profile` cannot be declined; it is always granted"
    );
}

#[test]
fn duplicates_name_the_first() {
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nid = \"123\"\nname = \"A\"\n\n[[apps]]\nkey = \"b\"\nid = 123\nname = \"B\"\n"),
        "w.toml:6: duplicate app id 123 (first at line 1)"
    );
    assert_eq!(
        error("[[users]]\nkey = \"alice\"\nname = \"A\"\n\n[[apps]]\nkey = \"alice\"\nname = \"A\"\n\n[[users]]\nkey = \"alice\"\nname = \"B\"\n"),
        "w.toml:9: duplicate user key `alice` (first at line 1)"
    );
    assert_eq!(
        error("[[pages]]\nid = 5\nname = \"A\"\n[[pages]]\nid = 5\nname = \"B\"\n"),
        "w.toml:4: duplicate page id 5 (first at line 1)"
    );
    assert_eq!(
        error("[[grants]]\nuser = \"1\"\napp = \"2\"\n[[grants]]\nuser = \"1\"\napp = \"2\"\n"),
        "w.toml:4: duplicate grant of app `2` to user `1` (first at line 1)"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\nroles = { testers = [\"1\", \"1\"] }\n"),
        "w.toml:4: user `1` is listed twice in roles.testers (first at line 4)"
    );
}

#[test]
fn references_must_name_a_key_in_the_right_section() {
    assert_eq!(
        error("[[users]]\nkey = \"alice\"\nname = \"A\"\n[[apps]]\nkey = \"a\"\nname = \"A\"\nroles = { administrators = [\"alice\", \"bob\"] }\n"),
        "w.toml:7: unknown user `bob` (not a key in this file and not a numeric id)"
    );
    assert_eq!(
        error("[[pages]]\nkey = \"p\"\nname = \"P\"\n[pages.roles]\nbob = \"Admin\"\n"),
        "w.toml:5: unknown user `bob` (not a key in this file and not a numeric id)"
    );
    // `a` is an app, not a user.
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\n[[grants]]\nuser = \"a\"\napp = \"a\"\n"),
        "w.toml:5: unknown user `a` (not a key in this file and not a numeric id)"
    );
    assert_eq!(
        error("[[users]]\nkey = \"u\"\nname = \"U\"\n[[grants]]\nuser = \"u\"\napp = \"acme\"\n"),
        "w.toml:6: unknown app `acme` (not a key in this file and not a numeric id)"
    );
    assert_eq!(
        error("[[grants]]\nuser = \"0\"\napp = \"2\"\n"),
        "w.toml:2: `0` is not a valid user id: it must be a positive number that fits in 63 bits, without leading zeros"
    );
}

#[test]
fn toml_syntax_errors_carry_the_line() {
    let e = error("[[apps]]\nkey = \"a\"\nname = \"A\nmode = \"live\"\n");
    assert!(e.starts_with("w.toml:3: invalid TOML: "), "{e}");
    let e = error("[[users]]\nkey = \"a\"\nkey = \"b\"\n");
    assert!(e.starts_with("w.toml:3: invalid TOML: "), "{e}");
    assert!(!e.contains('\n'), "{e}");
    assert_eq!(
        error("[[messages]]\nkey = \"m\"\npage = \"1\"\nuser = \"2\"\nmessage = \"Hi\"\ncreated_time = 1979-05-27\n"),
        "w.toml:6: dates and times are not used in seed files; write a date string like \"2026-01-15\" or unix seconds instead"
    );
    assert_eq!(
        error("[[users]]\nkey = \"a\"\nname = 1979-05-27\n"),
        "w.toml:3: dates and times are not used in seed files; write a string"
    );
    assert_eq!(
        error("[[users]]\nkey = \"a\"\nname = { first = \"A\" }\n"),
        "w.toml:3: invalid type: map, expected a string"
    );
}

#[test]
fn the_first_problem_is_reported() {
    // The reader stops at the first value it cannot take.
    let text = "[[grants]]\nuser = \"1\"\n\n[[apps]]\nkey = \"a\"\nname = 1\n";
    assert_eq!(error(text), "w.toml:1: missing field `app`");
    // Then the rules within an item, the earliest line first; then duplicates; then references.
    let text = "[[users]]\nkey = \"b\"\nname = \"B\"\n[[users]]\nkey = \"b\"\nname = \"C\"\n\
                [[users]]\nname = \"nameless\"\n[[users]]\nname = \"nameless too\"\n";
    assert_eq!(
        error(text),
        "w.toml:7: [[users]] item needs a `key` or an `id`"
    );
    let text = "[[grants]]\nuser = \"nobody\"\napp = \"1\"\n\
                [[users]]\nkey = \"b\"\nname = \"B\"\n[[users]]\nkey = \"b\"\nname = \"C\"\n";
    assert_eq!(
        error(text),
        "w.toml:7: duplicate user key `b` (first at line 4)"
    );
}

#[test]
fn the_example_world_parses() -> Result<(), SeedError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/world.toml");
    let w = load(&path)?;
    assert!(w.source.ends_with("world.toml"));
    assert_eq!(w.apps.len(), 2);
    assert_eq!(w.apps[0].name, "Acme Social");
    assert_eq!(w.apps[0].mode, AppMode::Development);
    assert_eq!(
        w.apps[0].redirect_uris,
        ["http://localhost:3000/auth/facebook/callback"]
    );
    assert_eq!(w.apps[1].mode, AppMode::Live);
    assert!(w.apps[1].require_appsecret_proof);
    assert!(!w.apps[1].advanced_access.is_empty());
    assert_eq!(w.users.len(), 4);
    assert_eq!(w.pages.len(), 2);
    assert_eq!(holders(&w, 0)[0].1, PageRole::Admin.tasks());
    assert_eq!(
        holders(&w, 1)[1].1,
        TaskSet::of(&[CreateContent, Moderate, Analyze])
    );
    assert_eq!(w.grants.len(), 4);
    assert_eq!(w.posts.len(), 1);
    assert_eq!(w.posts[0].comments.len(), 2);
    assert_eq!(w.messages.len(), 1);
    assert!(w
        .grants
        .iter()
        .all(|g| g.permissions_granted().iter().any(|p| p == PUBLIC_PROFILE)));
    Ok(())
}

#[test]
fn a_missing_file_is_an_error_on_line_0() {
    let e = load(Path::new("/nonexistent/world.toml")).map(|_| ());
    let e = e
        .err()
        .map(|e| (e.source, e.line, e.problem.starts_with("cannot read")));
    assert_eq!(e, Some(("/nonexistent/world.toml".to_owned(), 0, true)));
}

#[test]
fn the_docs_list_every_permission_and_task() {
    let docs = include_str!("../../../docs/seed.md");
    for p in permissions::KNOWN {
        assert!(
            docs.contains(&format!("`{p}`")),
            "docs/seed.md misses `{p}`"
        );
    }
    for t in Task::ALL {
        assert!(
            docs.contains(&format!("`{}`", t.as_str())),
            "docs/seed.md misses {t:?}"
        );
    }
    for role in PageRole::ALL.map(PageRole::as_str) {
        assert!(
            docs.contains(&format!("`{role}`")),
            "docs/seed.md misses {role}"
        );
    }
    assert!(docs.contains(&format!("`\"{DEFAULT_CATEGORY}\"`")));
}

#[test]
fn rate_limits_are_positive_budgets() -> Result<(), SeedError> {
    let w = ok("[[apps]]\nkey = \"a\"\nname = \"A\"\nrate_limits = { app = 100, page = 30 }\n")?;
    let l = w.apps[0].rate_limits;
    assert_eq!((l.app, l.user, l.page), (Some(100), None, Some(30)));
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\nrate_limits = { app = 0 }\n"),
        "w.toml:4: must be a number of calls per hour from 1 to 4294967295, not 0"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\n[apps.rate_limits]\nuser = \"50\"\n"),
        "w.toml:5: invalid type: string \"50\", expected a positive integer (calls per hour)"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\n[apps.rate_limits]\n\nusers = 5\n"),
        "w.toml:6: unknown field `users`, expected one of `app`, `user`, `page`"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\nrate_limits = 5\n"),
        "w.toml:4: invalid type: integer `5`, expected a table like { app = N, user = N, page = N }"
    );
    Ok(())
}

#[test]
fn test_user_limit_is_a_count() -> Result<(), SeedError> {
    let w = ok("[[apps]]\nkey = \"a\"\nname = \"A\"\ntest_user_limit = 25\n\n[[apps]]\nkey = \"b\"\nname = \"B\"\ntest_user_limit = 0\n\n[[apps]]\nkey = \"c\"\nname = \"C\"\n")?;
    let limits: Vec<Option<u32>> = w.apps.iter().map(|a| a.test_user_limit).collect();
    assert_eq!(limits, [Some(25), Some(0), None]);
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\ntest_user_limit = -1\n"),
        "w.toml:4: must be a number of test users from 0 to 4294967295, not -1"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\ntest_user_limit = 4294967296\n"),
        "w.toml:4: must be a number of test users from 0 to 4294967295, not 4294967296"
    );
    assert_eq!(
        error("[[apps]]\nkey = \"a\"\nname = \"A\"\ntest_user_limit = \"5\"\n"),
        "w.toml:4: invalid type: string \"5\", expected an integer"
    );
    Ok(())
}

const CONTENT: &str = r#"[[users]]
key = "bob"
name = "Bob"

[[pages]]
key = "cafe"
name = "Cafe"

[[apps]]
key = "tool"
name = "Tool"

[[posts]]
key = "welcome"
page = "cafe"
app = "tool"
message = "Welcome!"
created_time = "2026-01-15"
comments = [
  { user = "bob", message = "Nice" },
  { user = "100000000000777", message = "Spam", hidden = true },
]

[[posts]]
key = "draft"
page = "200000000000001"
message = "Soon"
published = false

[[messages]]
key = "hello"
page = "cafe"
user = "bob"
message = "Are you open?"
created_time = 1768471200
"#;

#[test]
fn posts_and_messages() -> Result<(), SeedError> {
    let w = ok(CONTENT)?;
    assert_eq!(w.posts.len(), 2);
    let p = &w.posts[0];
    assert_eq!((p.key.as_str(), line(&w, p)), ("welcome", 13));
    assert_eq!(at(&w, &p.page), r("cafe", 15));
    assert_eq!(p.app.as_ref().map(|a| at(&w, a)), Some(r("tool", 16)));
    assert_eq!(p.message, "Welcome!");
    assert!(p.published);
    assert_eq!(p.created_time, Some(1_768_435_200));
    let comments: Vec<_> = p
        .comments
        .iter()
        .map(|c| (at(&w, &c.user), c.message.as_str(), c.hidden))
        .collect();
    assert_eq!(
        comments,
        [
            (r("bob", 20), "Nice", false),
            (r("100000000000777", 21), "Spam", true)
        ]
    );
    let d = &w.posts[1];
    assert_eq!(
        (d.app.is_some(), d.published, d.created_time),
        (false, false, None)
    );
    assert!(d.comments.is_empty());
    let m = &w.messages[0];
    assert_eq!((m.key.as_str(), line(&w, m)), ("hello", 30));
    assert_eq!(
        (at(&w, &m.page), at(&w, &m.user)),
        (r("cafe", 32), r("bob", 33))
    );
    assert_eq!(m.message, "Are you open?");
    assert_eq!(m.created_time, Some(1_768_471_200));
    Ok(())
}

#[test]
fn content_errors() {
    let cases = [
        (
            ("created_time = \"2026-01-15\"", "colour = 1"),
            "w.toml:18: unknown field `colour`, expected one of `key`, `page`, `app`, `message`, `published`, `created_time`, `comments`",
        ),
        (
            ("page = \"cafe\"", "page = \"kitchen\""),
            "w.toml:15: unknown page `kitchen` (not a key in this file and not a numeric id)",
        ),
        (
            ("app = \"tool\"", "app = \"toll\""),
            "w.toml:16: unknown app `toll` (not a key in this file and not a numeric id)",
        ),
        (
            ("{ user = \"bob\", message = \"Nice\" }", "{ user = \"rob\", message = \"Nice\" }"),
            "w.toml:20: unknown user `rob` (not a key in this file and not a numeric id)",
        ),
        (
            ("user = \"bob\"\nmessage = \"Are", "user = \"bobby\"\nmessage = \"Are"),
            "w.toml:33: unknown user `bobby` (not a key in this file and not a numeric id)",
        ),
        (
            ("key = \"draft\"", "key = \"welcome\""),
            "w.toml:24: duplicate post key `welcome` (first at line 13)",
        ),
        (
            ("message = \"Welcome!\"", "message = \" \""),
            "w.toml:17: the value must not be empty",
        ),
        (
            ("message = \"Nice\"", "message = \"\""),
            "w.toml:20: the value must not be empty",
        ),
        (
            ("message = \"Nice\"", "message = \"Nice\", likes = 3"),
            "w.toml:20: unknown field `likes`, expected one of `user`, `message`, `hidden`",
        ),
        (
            ("message = \"Are you open?\"", "message = \"\""),
            "w.toml:34: the value must not be empty",
        ),
        (
            ("key = \"hello\"\n", ""),
            "w.toml:30: missing field `key`",
        ),
        (
            ("created_time = 1768471200", "created_time = \"soon\""),
            "w.toml:35: `soon` is not a date like \"2026-01-15\" or unix seconds \
             (in the years 1 to 9999)",
        ),
        (
            ("created_time = 1768471200", "created_time = -9223372036854775808"),
            "w.toml:35: `-9223372036854775808` is not a date like \"2026-01-15\" or unix \
             seconds (in the years 1 to 9999)",
        ),
    ];
    for ((from, to), want) in cases {
        assert!(CONTENT.contains(from), "{from}");
        assert_eq!(
            error(&CONTENT.replacen(from, to, 1)),
            want,
            "{from} -> {to}"
        );
    }
    let twice = format!("{CONTENT}\n[[messages]]\nkey = \"hello\"\npage = \"cafe\"\nuser = \"bob\"\nmessage = \"again\"\n");
    assert_eq!(
        error(&twice),
        "w.toml:37: duplicate message key `hello` (first at line 30)"
    );
}

#[test]
fn a_page_profile_parses_and_bad_values_are_named() -> Result<(), SeedError> {
    let w = ok(r#"
[[pages]]
key = "cafe"
name = "Cafe"
about = "Coffee"
website = "https://cafe.example"
emails = ["a@cafe.example", "b@cafe.example"]
username = "cafe"
fan_count = 12
cover = "https://cdn.example/c.jpg"
"#)?;
    let p = &w.pages[0].value;
    assert_eq!(p.about.as_deref(), Some("Coffee"));
    assert_eq!(p.emails.as_deref().map(<[String]>::len), Some(2));
    assert_eq!(
        (p.username.as_deref(), p.fan_count),
        (Some("cafe"), Some(12))
    );
    let page = |line: &str| format!("[[pages]]\nkey = \"cafe\"\nname = \"Cafe\"\n{line}\n");
    for (line, says) in [
        ("emails = [\"nope\"]", "`nope` is not an email address"),
        (
            "emails = [\"a@b.c\", \"a@b.c\"]",
            "email address `a@b.c` is listed twice",
        ),
        ("website = \"cafe.example\"", "is not an absolute URL"),
        (
            "fan_count = -1",
            "must be a number of fans from 0 to 4294967295, not -1",
        ),
        ("cover = 3", "a URL"),
    ] {
        let e = error(&page(line));
        assert!(e.contains(says), "{line}: {e}");
        assert!(e.contains("w.toml:4"), "{line}: {e}");
    }
    Ok(())
}

/// Property tests (see core's `fields::props`): any text is a world or an error with a line,
/// never a panic.
mod props {
    use proptest::prelude::*;

    fn seedish() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            Just("[[apps]]".to_string()),
            Just("[[users]]".to_string()),
            Just("[[pages]]".to_string()),
            Just("[[grants]]".to_string()),
            Just("[pages.tasks]".to_string()),
            "[a-z_]{1,12} = \"[a-z0-9@. ]{0,20}\"",
            "[a-z_]{1,12} = [0-9-]{1,25}",
            "[a-z_]{1,12} = \\[\"[a-zA-Z_]{0,20}\"\\]",
            "[a-z_]{1,12} = \\{ [a-z]{1,8} = \"[A-Za-z]{0,10}\" \\}",
            "\\PC{0,30}",
        ];
        proptest::collection::vec(line, 0..30).prop_map(|l| l.join("\n"))
    }

    proptest! {
        #[test]
        fn any_text_is_a_world_or_an_error(text in seedish()) {
            if let Err(e) = crate::parse("w.toml", &text) {
                prop_assert!(e.to_string().starts_with("w.toml"), "{}", e);
            }
        }
    }
}
