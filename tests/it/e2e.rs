//! End to end in the real desktop app: `tauri-driver` and WebKitWebDriver (Debian's
//! `webkit2gtk-driver`) start the built `techo-app` (the Yew UI embedded, the same WebKitGTK
//! webview a person gets) and this test drives it like a person would.
//!
//! Needs the app built with the UI (`scripts/build-ui.sh`, then `cargo build -p techo-app
//! --features custom-protocol`), `tauri-driver` on the PATH and an X display. `scripts/test.sh`
//! provides all three (Xvfb, a private D-Bus session) and runs this module with `TECHO_E2E=1`;
//! without that variable the tests say how to run them and do nothing, like the OS-keyring test.

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use serde_json::json;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use techo_tests::*;

fn enabled() -> bool {
    if std::env::var_os("TECHO_E2E").is_some() {
        return true;
    }
    eprintln!("e2e: not run (needs the built app, tauri-driver and a display): run scripts/test.sh, which sets TECHO_E2E=1");
    false
}

/// The app binary beside the `techo` CLI (`<target>/debug/techo-app`), or `$TECHO_APP`.
fn app_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TECHO_APP") {
        return PathBuf::from(p);
    }
    let bin = techo_bin().with_file_name(format!("techo-app{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "build the app first: cargo build -p techo-app --features custom-protocol (looked for {})", bin.display());
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local addr").port()
}

/// `tauri-driver`, stopped (with the app it started) when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(vault: &TempVault) -> Driver {
        Self::start_with(vault, &[])
    }

    /// Like `start`, with extra environment for the app.
    fn start_with(vault: &TempVault, env: &[(&str, &str)]) -> Driver {
        let port = free_port();
        let native = free_port();
        let home = vault.home_dir();
        let child = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            // The app (started by WebKitWebDriver) inherits this environment.
            .env("TECHO_VAULT", &vault.dir)
            .env("TECHO_KEYRING", "none")
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start tauri-driver (cargo install tauri-driver --version 2.1.0; scripts/setup.sh does)");
        let driver = Driver { child, port };
        // tauri-driver listens at once but starts WebKitWebDriver beside it without waiting for
        // it; a session asked for before WebKitWebDriver listens is cut off mid-answer (CI saw
        // "IncompleteMessage" once). So both ports must answer first.
        let deadline = Instant::now() + Duration::from_secs(20);
        for (what, p) in [("tauri-driver", port), ("WebKitWebDriver", native)] {
            while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(Instant::now() < deadline, "{what} did not listen on port {p} within 20 s");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        driver
    }

    async fn client(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": app_bin() }));
        ClientBuilder::rustls()
            .expect("TLS roots")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a WebDriver session with the app")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // tauri-driver, WebKitWebDriver and the app share one process group: end them all, so
        // no app of this test is left running into the next test.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_for(c: &Client, css: &str) -> Element {
    match c.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(_) => {
            // What the window said instead (its messages are sentences, never record data).
            let notice = match c.find(Locator::Css(".notice")).await {
                Ok(n) => n.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if let Ok(png) = c.screenshot().await {
                eprintln!("e2e: screenshot of the failure: {}", save_screenshot(&png, "failure.png").display());
            }
            panic!("the window never showed {css} (notice: {notice:?})")
        }
    }
}

/// Waits until `css` holds text containing `needle`; returns the text.
async fn wait_for_text(c: &Client, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t.contains(needle) {
                    return t;
                }
            }
        }
        assert!(Instant::now() < deadline, "{css} never showed the expected text");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn unlock(c: &Client, passphrase: &str) {
    let field = wait_for(c, "#passphrase").await;
    field.send_keys(passphrase).await.expect("type the passphrase");
    c.find(Locator::Css("form.unlock button[type=submit]")).await.expect("the unlock button").click().await.expect("click unlock");
}

fn save_screenshot(png: &[u8], name: &str) -> PathBuf {
    let dir = std::env::var_os("TECHO_E2E_SHOTS").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e"));
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("write screenshot");
    path
}

struct Person {
    id: String,
    name: String,
    count: u64,
}

/// A vault with two generated persons (synthetic data), made with the CLI.
fn vault_with_two_persons() -> (TempVault, Vec<Person>) {
    let v = TempVault::new();
    let out = v.tmp_dir().join("gen");
    v.run(["gen", "--persons", "2", "--resources", "300", "--seed", "7", "--format", "ndjson", "--out-dir"].map(String::from).into_iter().chain([out.display().to_string()]))
        .ok();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out).expect("generated files").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    v.import(&refs, None).ok();
    let persons = v.run(["--json", "person", "list"]).ok().json();
    let persons = persons
        .as_array()
        .expect("person list is an array")
        .iter()
        .map(|p| Person {
            id: p["id"].to_string(),
            name: p["display_name"].as_str().unwrap_or_default().to_owned(),
            count: p["resource_count"].as_u64().unwrap_or(0),
        })
        .collect();
    (v, persons)
}

#[tokio::test(flavor = "current_thread")]
async fn the_app_unlocks_shows_whose_records_and_locks() {
    if !enabled() {
        return;
    }
    let (vault, persons) = vault_with_two_persons();
    assert_eq!(persons.len(), 2, "the generator made two persons");
    let driver = Driver::start(&vault);
    let c = driver.client().await;

    // A wrong passphrase: one plain sentence, and the form stays.
    unlock(&c, "not the passphrase at all").await;
    let msg = wait_for_text(&c, ".notice.error", "passphrase").await;
    assert!(!msg.contains("Error(") && !msg.contains("{"), "an IPC error reached the window raw");
    wait_for(&c, "#passphrase").await;

    // The right one: every person with their resource count.
    unlock(&c, &vault.passphrase).await;
    wait_for(&c, "table.persons").await;
    let rows = c.find_all(Locator::Css("table.persons tbody tr")).await.expect("person rows");
    assert_eq!(rows.len(), persons.len());
    let table = c.find(Locator::Css("table.persons")).await.expect("table").text().await.expect("table text");
    for p in &persons {
        assert!(table.contains(p.name.as_str()), "a person's name is missing from the window");
        let shown = p.count.to_string();
        let grouped = techo_count(p.count);
        assert!(table.contains(&shown) || table.contains(&grouped), "a person's resource count is missing");
    }
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "persons.png");

    // Open the first person's record: the newest page of the timeline, grouped by day, with
    // whose record it is on the screen.
    let first = &persons[0];
    c.find(Locator::Css("button.person")).await.expect("a person's name to open").click().await.expect("open the record");
    wait_for_text(&c, "h2.whose", &first.name).await;
    wait_for(&c, ".timeline li.entry").await;
    // The first page holds the newest 100 records; the list renders only those near the
    // viewport (virtualized), so the loaded count is on the list itself.
    assert_eq!(wait_for_loaded(&c, first.count.min(100)).await, first.count.min(100), "the first page holds the newest 100 records");
    let rendered = c.find_all(Locator::Css(".timeline li.entry")).await.expect("timeline entries").len();
    assert!(rendered > 0 && rendered as u64 <= first.count.min(100));
    assert!(!c.find_all(Locator::Css(".timeline li.day-head h3")).await.expect("day headings").is_empty());
    if first.count > 100 {
        // Older records come page by page from the shell, never all at once.
        c.find(Locator::Css("button.more")).await.expect("the 'older records' button").click().await.expect("page");
        wait_for_loaded(&c, first.count.min(200)).await;
    }

    // Search a Japanese word: the window finds what the CLI finds.
    let expected = vault.run(["--json", "search", "血圧", "--person", &first.id, "--limit", "100"]).ok().json();
    let expected = expected.as_array().map_or(0, Vec::len);
    assert!(expected > 0, "the generated record has blood-pressure readings");
    let search = wait_for(&c, "#search").await;
    search.send_keys("血圧").await.expect("type the search");
    c.find(Locator::Css("form.search button[type=submit]")).await.expect("search button").click().await.expect("search");
    wait_for(&c, ".results li.entry").await;
    let found = c.find_all(Locator::Css(".results li.entry")).await.expect("results").len();
    assert_eq!(found, expected);
    let first_hit = c.find(Locator::Css(".results li.entry .label")).await.expect("a result").text().await.expect("its label");
    assert!(!first_hit.is_empty());

    // A record's detail: its sources and its FHIR JSON, as text.
    c.find(Locator::Css(".results button.entry-open")).await.expect("a result to open").click().await.expect("open");
    let json = wait_for_text(&c, "aside.detail pre.json", "\"resourceType\"").await;
    assert!(json.contains("\"subject\""), "the detail shows the record's JSON");
    assert!(!c.find_all(Locator::Css("aside.detail ul.sources li")).await.expect("sources").is_empty());
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "record.png");

    // Lock: the key is dropped and the passphrase is asked again.
    c.find(Locator::Css(".toolbar button.secondary")).await.expect("the Lock button").click().await.expect("click lock");
    wait_for(&c, "#passphrase").await;
    assert!(c.find(Locator::Css("table.persons")).await.is_err(), "records stay visible after Lock");

    c.close().await.expect("close the session");
    drop(driver);
}

/// `1234` → `1,234` (the window groups thousands).
fn techo_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[tokio::test(flavor = "current_thread")]
async fn an_unused_vault_locks_itself() {
    if !enabled() {
        return;
    }
    let vault = TempVault::new();
    // 4 seconds instead of the default 10 minutes.
    let driver = Driver::start_with(&vault, &[("TECHO_AUTOLOCK_SECONDS", "4")]);
    let c = driver.client().await;
    unlock(&c, &vault.passphrase).await;
    wait_for(&c, ".toolbar").await;
    let started = Instant::now();
    // Left alone, the vault locks: the window drops what it showed and asks again.
    let note = wait_for_text(&c, ".notice.note", "locked your vault after 4 seconds without use").await;
    assert!(started.elapsed() >= Duration::from_secs(2), "locked too early: {note}");
    wait_for(&c, "#passphrase").await;
    assert!(c.find(Locator::Css(".toolbar")).await.is_err(), "the unlocked view stayed after the auto-lock");
    // The key is gone in the shell too: the passphrase is needed again and works.
    unlock(&c, &vault.passphrase).await;
    wait_for(&c, ".toolbar").await;
    c.close().await.expect("close the session");
    drop(driver);
}

/// Waits until `css` holds text that starts with `prefix`; returns the text.
async fn wait_for_start(c: &Client, css: &str, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t.trim_start().starts_with(prefix) {
                    return t;
                }
            }
        }
        assert!(Instant::now() < deadline, "{css} never started with {prefix:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// "1,234 received: …" → 1234.
fn received(summary: &str) -> u64 {
    let n: String = summary.split(" received").next().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
    n.parse().unwrap_or_else(|_| panic!("a sync report's counts: {summary:?}"))
}

/// A new user's first run: add the built-in demo hospital, sign in on its page (the test plays
/// the browser with the authorize URL the window shows), sync, see the records; the next sync
/// moves nothing; the interval setting schedules the next one. Afterwards the CLI reads the
/// same record from the vault.
#[tokio::test(flavor = "current_thread")]
async fn a_new_user_adds_the_demo_hospital_signs_in_and_syncs() {
    if !enabled() {
        return;
    }
    let vault = TempVault::new();
    // No browser (the test is the browser); a free port for the demo hospital.
    let driver = Driver::start_with(&vault, &[("TECHO_NO_BROWSER", "1"), ("TECHO_DEMO_PORT", "0")]);
    let c = driver.client().await;
    unlock(&c, &vault.passphrase).await;
    wait_for(&c, ".toolbar").await;

    c.find(Locator::Css("button.sources-open")).await.expect("the Sources button").click().await.expect("open Sources");
    wait_for(&c, "section.sources").await;
    wait_for(&c, ".demo-offer button.add-demo").await.click().await.expect("add the demo hospital");
    wait_for(&c, "li.endpoint[data-state=needs-sign-in]").await;
    assert!(c.find(Locator::Css(".demo-offer")).await.is_err(), "the demo offer stays after the demo hospital was added");

    // Sign in: the window shows the authorize URL and waits; the "browser" allows access and
    // follows the redirect to the app's loopback listener.
    wait_for(&c, "button.sign-in").await.click().await.expect("sign in");
    wait_for(&c, ".sign-in-panel.waiting").await;
    let url = wait_for_start(&c, "p.sign-in-url", "http://127.0.0.1:").await;
    assert!(url.contains("code_challenge_method=S256") && url.contains("state="), "a SMART authorize request with PKCE");
    tokio::task::spawn_blocking(move || {
        let back = techo_demo::hospital::sign_in(url.trim(), techo_demo::hospital::Decision::Allow).expect("the demo hospital's sign-in page");
        assert!(back.starts_with("http://127.0.0.1:"), "the hospital redirects to the app's loopback listener");
        let page = reqwest::blocking::get(&back).expect("the app's redirect listener answers");
        assert_eq!(page.status().as_u16(), 200);
    })
    .await
    .expect("the browser's part");
    wait_for(&c, ".sign-in-panel.done").await;
    wait_for(&c, "li.endpoint[data-state=ready]").await;

    // Sync: progress, then a report; the persons screen shows the records.
    wait_for(&c, "button.sync-all").await.click().await.expect("sync all");
    wait_for(&c, "article.sync-report.ok").await;
    let first = c.find(Locator::Css("article.sync-report.ok .report-counts")).await.expect("the report's counts").text().await.expect("text");
    let n = received(&first);
    assert!(n >= 1000, "the first sync copies the demo record: {first}");
    assert!(first.contains(&format!("{} new", techo_count(n))), "everything is new on a first sync: {first}");
    // The counts above the screen follow the sync.
    wait_for_text(&c, ".toolbar .summary", &format!("{} resources", techo_count(n))).await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "sources.png");

    // The next sync of the unchanged hospital moves nothing.
    wait_for(&c, "button.sync-all:not([disabled])").await.click().await.expect("sync again");
    let second = wait_for_start(&c, "article.sync-report.ok .report-counts", "0 received").await;
    assert!(second.contains("0 new"), "{second}");

    // The schedule: every hour, and the window says when the next sync is.
    let select = wait_for(&c, "select#sync-interval").await;
    select.select_by_value("60").await.expect("choose every hour");
    wait_for_text(&c, ".next-sync", "next sync in").await;

    c.find(Locator::Css("button.sources-close")).await.expect("back").click().await.expect("back to persons");
    wait_for(&c, "table.persons").await;
    let table = wait_for_text(&c, "table.persons", &techo_count(n)).await;
    assert!(!table.is_empty());
    c.close().await.expect("close the session");
    drop(driver);

    // Started again: the interval is kept, and the restarted demo hospital (which forgets its
    // sign-ins) asks for a new sign-in in words; the records stay.
    let driver = Driver::start_with(&vault, &[("TECHO_NO_BROWSER", "1"), ("TECHO_DEMO_PORT", "0")]);
    let c = driver.client().await;
    unlock(&c, &vault.passphrase).await;
    wait_for_text(&c, "table.persons", &techo_count(n)).await;
    c.find(Locator::Css("button.sources-open")).await.expect("the Sources button").click().await.expect("open Sources");
    // The select shows "off" until the window has read the vault's interval: wait for it.
    let select = wait_for(&c, "select#sync-interval").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut shown = select.prop("value").await.expect("the interval");
    while shown.as_deref() != Some("60") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        shown = select.prop("value").await.expect("the interval");
    }
    assert_eq!(shown.as_deref(), Some("60"), "the sync interval is kept in the vault");
    wait_for(&c, "li.endpoint[data-state=needs-sign-in]").await;
    wait_for_text(&c, "li.endpoint .endpoint-message", "sign in").await;
    c.close().await.expect("close the session");
    drop(driver);

    // The CLI reads the same vault: every synced resource is there.
    let stats = vault.run(["--json", "stats"]).ok().json();
    assert_eq!(stats["resources"].as_u64(), Some(n), "the vault holds what the report counted");
    let endpoints = vault.run(["--json", "endpoint", "list"]).ok().json();
    let list = endpoints.as_array().expect("endpoint list");
    assert_eq!(list.len(), 1, "one source: the demo hospital");
}

/// Home vitals in the app: a blood-pressure reading and diary entries (mood, asthma, joint
/// pain) entered through the window appear in the list, on the chart (beside the hospital's
/// readings of the same code), in the diary calendar, in the blood-pressure handbook (against
/// a target the person sets), in the timeline and in search; the same reading twice is caught,
/// an impossible one refused in words; the CLI reads them back as standard FHIR.
#[tokio::test(flavor = "current_thread")]
async fn a_person_enters_a_blood_pressure_reading_and_a_diary_entry() {
    if !enabled() {
        return;
    }
    let (vault, persons) = vault_with_two_persons();
    let first = &persons[0];
    let hospital_bp = vault.run(["--json", "vitals", "list", "--person", &first.id, "--kind", "bp"]).ok().json();
    let hospital_bp = hospital_bp.as_array().map_or(0, Vec::len);
    let driver = Driver::start(&vault);
    let c = driver.client().await;
    unlock(&c, &vault.passphrase).await;
    wait_for(&c, "table.persons").await;
    c.find(Locator::Css("button.person")).await.expect("a person to open").click().await.expect("open the record");
    wait_for_text(&c, "h2.whose", &first.name).await;
    wait_for(&c, "button.vitals-open").await.click().await.expect("open home vitals");
    wait_for(&c, "section.vitals").await;
    let kind = wait_for(&c, "select#vital-kind").await;
    assert_eq!(kind.prop("value").await.expect("the kind").as_deref(), Some("blood-pressure"), "blood pressure comes first");
    if hospital_bp > 0 {
        // The hospital's readings of the same code share the chart.
        wait_for(&c, "svg.vital-chart circle.point.hospital").await;
    }

    // A reading: upper, lower, pulse, morning.
    wait_for(&c, "input#systolic").await.send_keys("128").await.expect("type");
    c.find(Locator::Css("input#diastolic")).await.expect("diastolic").send_keys("82").await.expect("type");
    c.find(Locator::Css("input#pulse")).await.expect("pulse").send_keys("70").await.expect("type");
    c.find(Locator::Css("select#bp-context")).await.expect("morning/evening").select_by_value("morning").await.expect("choose morning");
    c.find(Locator::Css("button.save-vital")).await.expect("save").click().await.expect("save the reading");
    wait_for_text(&c, "section.vitals .notice.note", "Saved").await;
    wait_for_text(&c, "ul.vital-list", "128/82 mmHg").await;
    wait_for(&c, "svg.vital-chart circle.point.home").await;

    // The same reading again is caught, not stored twice.
    c.find(Locator::Css("button.save-vital")).await.expect("save").click().await.expect("save again");
    wait_for_text(&c, "section.vitals .notice.note", "Already stored").await;

    // An impossible one is refused in words, and nothing is stored.
    let sys = c.find(Locator::Css("input#systolic")).await.expect("systolic");
    sys.clear().await.expect("clear");
    sys.send_keys("400").await.expect("type");
    c.find(Locator::Css("button.save-vital")).await.expect("save").click().await.expect("save");
    let refused = wait_for_text(&c, "section.vitals .notice.error", "mmHg").await;
    assert!(!refused.contains('{') && !refused.contains("Error("), "a raw error reached the window");

    // A diary entry.
    c.find(Locator::Css("select#diary-mood")).await.expect("mood").select_by_value("4").await.expect("choose a mood");
    c.find(Locator::Css("textarea#diary-symptoms")).await.expect("symptoms").send_keys("朝から少し頭痛").await.expect("type");
    c.find(Locator::Css("button.save-diary")).await.expect("save the diary").click().await.expect("save");
    wait_for_text(&c, "ul.diary-list", "朝から少し頭痛").await;

    // The asthma diary: morning peak flow and daytime symptoms.
    c.find(Locator::Css("select#diary-kind")).await.expect("which diary").select_by_value("asthma").await.expect("choose asthma");
    wait_for(&c, "input#asthma-pef-morning").await.send_keys("420").await.expect("type");
    c.find(Locator::Css("select#asthma-daytime")).await.expect("daytime symptoms").select_by_value("1").await.expect("choose mild");
    c.find(Locator::Css("button.save-diary")).await.expect("save the diary").click().await.expect("save");
    wait_for_text(&c, "ul.diary-list", "PEF morning 420 L/min").await;

    // The joint-pain diary: the left knee, severity 5.
    c.find(Locator::Css("select#diary-kind")).await.expect("which diary").select_by_value("joint-pain").await.expect("choose joint pain");
    wait_for(&c, "input.joint[value=left-knee]").await.click().await.expect("tick the left knee");
    c.find(Locator::Css("input#joint-severity")).await.expect("severity").send_keys("5").await.expect("type");
    c.find(Locator::Css("button.save-diary")).await.expect("save the diary").click().await.expect("save");
    wait_for_text(&c, "ul.diary-list", "severity 5/10").await;

    // The calendar marks today; today's entries are the three diaries.
    wait_for(&c, "table.calendar td.day.today.has-entries").await.click().await.expect("open today");
    wait_for(&c, "ul.day-entries li").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.find_all(Locator::Css("ul.day-entries li")).await.expect("day entries").len() != 3 {
        assert!(Instant::now() < deadline, "today's entries in the calendar are not the three diaries");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The handbook: this week's morning average is the reading; under 135/85 it is not
    // marked, under a stricter target of 125/75 it is.
    let week = "table.handbook tr.week:first-child td.morning";
    wait_for_text(&c, week, "128/82").await;
    assert!(c.find(Locator::Css("table.handbook tr.week:first-child td.morning.above")).await.is_err(), "128/82 is within 135/85");
    for (id, v) in [("input#target-systolic", "125"), ("input#target-diastolic", "75")] {
        let field = c.find(Locator::Css(id)).await.expect("target field");
        field.clear().await.expect("clear");
        field.send_keys(v).await.expect("type");
    }
    c.find(Locator::Css("button.save-target")).await.expect("save the target").click().await.expect("save");
    wait_for(&c, "table.handbook tr.week:first-child td.morning.above").await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "vitals-diary.png");

    // A mistaken entry is deleted: the joint-pain entry leaves the list (it stays in the
    // vault's history as entered-in-error).
    let rows = c.find_all(Locator::Css("ul.diary-list li.diary-entry-row")).await.expect("diary rows");
    assert_eq!(rows.len(), 3);
    let mut deleted = false;
    for row in rows {
        if row.text().await.expect("row text").contains("severity 5/10") {
            row.find(Locator::Css("button.delete-entry")).await.expect("its delete button").click().await.expect("delete");
            deleted = true;
            break;
        }
    }
    assert!(deleted, "the joint-pain entry has a delete button");
    wait_for_text(&c, "section.diary .notice.note", "Deleted").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.find_all(Locator::Css("ul.diary-list li.diary-entry-row")).await.expect("diary rows").len() != 2 {
        assert!(Instant::now() < deadline, "the deleted entry stayed in the list");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let buttons = c.find_all(Locator::Css("ul.vital-list button.delete-entry")).await.expect("delete buttons").len();
    let home = c.find_all(Locator::Css("ul.vital-list .badge.home")).await.expect("home badges").len();
    assert_eq!((buttons, home), (1, 1), "only the home reading can be deleted, not the hospital's");
    // The form and the chart, for the README.
    c.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll to the top");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "vitals.png");

    // Back in the record: both are in the timeline (newest first) and found by search.
    c.find(Locator::Css("button.vitals-close")).await.expect("back").click().await.expect("back to the record");
    wait_for(&c, ".timeline li.entry").await;
    let newest: Vec<String> = {
        let mut v = Vec::new();
        for e in c.find_all(Locator::Css(".timeline li.entry .rtype")).await.expect("entries").into_iter().take(4) {
            v.push(e.text().await.expect("type"));
        }
        v
    };
    assert!(newest.iter().any(|t| t == "Observation") && newest.iter().any(|t| t == "QuestionnaireResponse"), "the newest entries are the reading and the diaries: {newest:?}");
    let search = wait_for(&c, "#search").await;
    search.send_keys("頭痛").await.expect("type the search");
    c.find(Locator::Css("form.search button[type=submit]")).await.expect("search button").click().await.expect("search");
    wait_for_text(&c, ".results", "QuestionnaireResponse").await;
    c.close().await.expect("close the session");
    drop(driver);

    // The CLI reads the home reading back: one, with the values typed, as a home entry.
    let after = vault.run(["--json", "vitals", "list", "--person", &first.id, "--kind", "bp"]).ok().json();
    let after = after.as_array().expect("readings");
    assert_eq!(after.len(), hospital_bp + 1, "exactly one reading was added (the duplicate and the impossible one were not)");
    let diaries = vault.run(["--json", "diary", "list", "--person", &first.id]).ok().json();
    assert_eq!(diaries.as_array().map(Vec::len), Some(2), "mood and asthma (the joint-pain entry was deleted)");
    let all = vault.run(["--json", "diary", "list", "--person", &first.id, "--include-deleted"]).ok().json();
    assert_eq!(all.as_array().map(Vec::len), Some(3), "the deleted entry stays in the vault");
}

/// In the page: clicks `click` (or, with `scroll`, scrolls that element to its end), then
/// resolves with the milliseconds until at least `n` elements match `css` (a MutationObserver,
/// attributes included, so no WebDriver polling delay is counted).
const TIME_UNTIL_SHOWN: &str = r#"
const [click, css, n, scroll, done] = [arguments[0], arguments[1], arguments[2], arguments[3], arguments[arguments.length - 1]];
const t0 = performance.now();
const seen = () => document.querySelectorAll(css).length >= n;
const obs = new MutationObserver(() => { if (seen()) { obs.disconnect(); done(performance.now() - t0); } });
obs.observe(document.body, { childList: true, subtree: true, attributes: true });
const el = document.querySelector(click);
if (scroll) { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')); } else { el.click(); }
"#;

/// The rows the virtualized timeline has loaded (`data-loaded`), once it is at least `n`.
async fn wait_for_loaded(c: &Client, n: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(e) = c.find(Locator::Css(".timeline")).await {
            if let Ok(Some(v)) = e.attr("data-loaded").await {
                let v: u64 = v.parse().unwrap_or(0);
                if v >= n {
                    return v;
                }
            }
        }
        assert!(Instant::now() < deadline, "the timeline never loaded {n} rows");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A record of 100,000 resources: how long the first timeline page takes to show once the
/// vault is unlocked, and the next page. Measured in the page and printed (issue 4's goal is
/// under 300 ms; goals are reported, not asserted, in tests). The pages hold exactly the
/// newest 100 and the 100 after them.
#[tokio::test(flavor = "current_thread")]
async fn the_first_timeline_page_of_a_100k_record_shows_after_unlock() {
    if !enabled() {
        return;
    }
    let v = TempVault::new();
    let file = v.tmp_dir().join("big.ndjson");
    v.run(["gen", "--resources", "100000", "--seed", "11", "--format", "ndjson", "--out"].map(String::from).into_iter().chain([file.display().to_string()])).ok();
    v.import(&[&file], None).ok();
    let persons = v.run(["--json", "person", "list"]).ok().json();
    let count = persons[0]["resource_count"].as_u64().expect("the person's resource count");
    assert!(count >= 100_000, "the record holds the generated resources: {count}");

    let driver = Driver::start(&v);
    let c = driver.client().await;
    unlock(&c, &v.passphrase).await;
    wait_for(&c, "button.person").await;
    // The timeline is virtualized: it loads pages of 100 (`data-loaded`) and renders only the
    // entries near the viewport. Timed: until the first page's entries are on the screen.
    let entries = ".timeline li.entry";
    let first = c
        .execute_async(TIME_UNTIL_SHOWN, vec![json!("button.person"), json!(".timeline[data-loaded='100'] li.entry[data-index='0']"), json!(1), json!(false)])
        .await
        .expect("time the first page");
    let first_ms = first.as_f64().expect("milliseconds");
    assert_eq!(wait_for_loaded(&c, 100).await, 100, "the first page is the newest 100");
    let rendered = c.find_all(Locator::Css(entries)).await.expect("entries").len();
    assert!((10..100).contains(&rendered), "only the entries near the viewport are rendered: {rendered}");
    // Scrolled to the end, the next page comes by itself and its first entry (the 101st) shows.
    let next = c
        .execute_async(TIME_UNTIL_SHOWN, vec![json!(".timeline"), json!(".timeline[data-loaded='200'] li.entry[data-index='100']"), json!(1), json!(true)])
        .await
        .expect("time the next page");
    let next_ms = next.as_f64().expect("milliseconds");
    assert_eq!(wait_for_loaded(&c, 200).await, 200, "the next page adds the next 100");
    assert!(c.find_all(Locator::Css(entries)).await.expect("entries").len() < 100, "still only the entries near the viewport");
    eprintln!(
        "e2e: a record of {count} resources: the first timeline page (100 entries) showed {first_ms:.0} ms after the click that opens the record (goal < 300 ms); the next page {next_ms:.0} ms after scrolling to the end"
    );
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "timeline-100k.png");
    c.close().await.expect("close the session");
    drop(driver);
}

/// A caregiver adds a family member and renames a person in the window; the persons table
/// and the CLI show the change; a name of spaces is refused in words.
#[tokio::test(flavor = "current_thread")]
async fn a_caregiver_adds_a_family_member_and_renames_a_person() {
    if !enabled() {
        return;
    }
    let vault = TempVault::new();
    let driver = Driver::start(&vault);
    let c = driver.client().await;
    unlock(&c, &vault.passphrase).await;
    wait_for(&c, "form.add-person").await;

    // Yourself first, then your mother.
    for (name, rel) in [("山田 太郎", "self"), ("山田 花子", "mother")] {
        c.find(Locator::Css("input#person-name")).await.expect("name").send_keys(name).await.expect("type");
        c.find(Locator::Css("select#person-relationship")).await.expect("relationship").select_by_value(rel).await.expect("choose");
        c.find(Locator::Css("button.add-person")).await.expect("add").click().await.expect("add the person");
        wait_for_text(&c, "table.persons", name).await;
    }
    let rows = c.find_all(Locator::Css("table.persons tbody tr")).await.expect("rows").len();
    assert_eq!(rows, 2);

    // A name of spaces is refused in words; nothing changes.
    c.find(Locator::Css("input#person-name")).await.expect("name").send_keys("   ").await.expect("type");
    c.find(Locator::Css("button.add-person")).await.expect("add").click().await.expect("add");
    wait_for_text(&c, ".persons-editor .notice.error", "name").await;
    assert_eq!(c.find_all(Locator::Css("table.persons tbody tr")).await.expect("rows").len(), 2);

    // Rename the mother.
    let mother = persons_by_name(&vault, "山田 花子");
    c.find(Locator::Css("select#rename-which")).await.expect("who").select_by_value(&mother).await.expect("choose her");
    c.find(Locator::Css("input#rename-name")).await.expect("new name").send_keys("山田 花子 (母)").await.expect("type");
    c.find(Locator::Css("button.rename-person")).await.expect("rename").click().await.expect("rename");
    wait_for_text(&c, "table.persons", "山田 花子 (母)").await;
    c.close().await.expect("close the session");
    drop(driver);

    let persons = vault.run(["--json", "person", "list"]).ok().json();
    let list: Vec<(String, String)> = persons
        .as_array()
        .expect("persons")
        .iter()
        .map(|p| (p["display_name"].as_str().unwrap_or_default().to_owned(), p["relationship"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(list, [("山田 太郎".to_owned(), "self".to_owned()), ("山田 花子 (母)".to_owned(), "mother".to_owned())]);
}

/// The id of the person named `name`, as the CLI lists it.
fn persons_by_name(v: &TempVault, name: &str) -> String {
    let persons = v.run(["--json", "person", "list"]).ok().json();
    persons.as_array().expect("persons").iter().find(|p| p["display_name"] == name).map(|p| p["id"].to_string()).expect("the person")
}

/// Consent in the app: keep mental-health records from the doctors, let a daughter read the
/// record, opt out of research (after a confirmation); each change shows at once. The audit
/// view lists the three changes, newest first, and Verify says the log holds. The CLI reads the
/// same consent back and `techo audit verify` passes.
#[tokio::test(flavor = "current_thread")]
async fn a_person_sets_consent_and_reads_the_audit_log() {
    if !enabled() {
        return;
    }
    let v = TempVault::new();
    let record = v.input(
        "sakura.json",
        r#"{"resourceType":"Bundle","type":"collection","entry":[
 {"resource":{"resourceType":"Patient","id":"pt1","name":[{"family":"山田","given":["花子"],"text":"山田 花子"}],"birthDate":"1961-07-14"}},
 {"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/pt1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"F32.9","display":"うつ病"}]},"onsetDateTime":"2024-03-01"}},
 {"resource":{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/pt1"},"code":{"coding":[{"system":"http://loinc.org","code":"2345-7","display":"Glucose"}]},"effectiveDateTime":"2025-02-05T09:00:00+09:00","valueQuantity":{"value":99,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}}]}"#,
    );
    v.run(["import", record.to_str().expect("a UTF-8 path"), "--source", "Sakura Hospital"]).ok();
    let persons = v.run(["--json", "person", "list"]).ok().json();
    let person = persons[0]["id"].to_string();

    let driver = Driver::start(&v);
    let c = driver.client().await;
    unlock(&c, &v.passphrase).await;
    wait_for(&c, "table.persons").await;
    wait_for(&c, "button.consent-open").await.click().await.expect("open Consent");
    wait_for(&c, "section.consent").await;
    wait_for(&c, ".no-exceptions").await;
    wait_for(&c, ".research-state[data-permitted=true]").await;

    // Keep mental-health records from the doctors.
    wait_for(&c, "form.deny-category select#deny-category").await.select_by_value("mental_health").await.expect("choose mental health");
    c.find(Locator::Css("form.deny-category button[type=submit]")).await.expect("its button").click().await.expect("add the exception");
    wait_for_text(&c, "ul.exceptions li", "mental health").await;
    wait_for_text(&c, "ul.exceptions li", "精神・心の健康").await;
    wait_for_text(&c, "section.consent .notice.note", "Saved").await;

    // Let the daughter read the record.
    for (css, text) in [("#caregiver-id", "hanako"), ("#caregiver-name", "山田 花子"), ("#caregiver-relationship", "娘")] {
        c.find(Locator::Css(&format!("form.grant-caregiver {css}"))).await.expect("a caregiver field").send_keys(text).await.expect("type");
    }
    c.find(Locator::Css("form.grant-caregiver #caregiver-access")).await.expect("access").select_by_value("read_only").await.expect("read only");
    c.find(Locator::Css("form.grant-caregiver button[type=submit]")).await.expect("grant").click().await.expect("grant access");
    wait_for_text(&c, "li.caregiver[data-state=active]", "山田 花子").await;

    // Opt out of research: asked first, then the state says so.
    c.find(Locator::Css("button.research-opt-out")).await.expect("opt out").click().await.expect("opt out");
    wait_for(&c, "button.research-confirm").await.click().await.expect("confirm");
    wait_for(&c, ".research-state[data-permitted=false]").await;
    wait_for(&c, "button.research-opt-in").await;
    let shown = c.find(Locator::Css("section.consent")).await.expect("the screen").text().await.expect("its text");
    assert!(!shown.contains("うつ病") && !shown.contains("F32"), "the consent screen shows record content");
    // The caregivers and the research choice, for the README.
    c.execute("document.querySelector('section.caregivers').scrollIntoView()", vec![]).await.expect("scroll to the caregivers");
    tokio::time::sleep(Duration::from_millis(300)).await;
    save_screenshot(&c.screenshot().await.expect("screenshot"), "consent.png");

    // The audit view: the three changes, newest first; Verify says the log holds.
    c.find(Locator::Css("button.audit-open")).await.expect("Audit").click().await.expect("open the audit view");
    wait_for(&c, "table.audit tbody tr").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let rows = c.find_all(Locator::Css("table.audit tbody tr")).await.expect("audit rows");
        if rows.len() == 3 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(rows.len(), 3, "three consent changes, nothing else left the vault");
    let mut texts = Vec::new();
    for r in &rows {
        assert_eq!(r.attr("data-kind").await.expect("kind").as_deref(), Some("consent-change"));
        texts.push(r.text().await.expect("row text"));
    }
    assert!(texts.iter().all(|t| t.contains("同意の変更")), "each row says what it is in both languages");
    assert!(texts[0].to_lowercase().contains("research"), "newest first: the opt-out is on top");
    assert!(texts[2].contains("mental health"), "the exception is the oldest");
    c.find(Locator::Css("button.audit-verify")).await.expect("Verify").click().await.expect("verify");
    wait_for_text(&c, ".audit-verdict", "The log holds: 3 entries").await;
    save_screenshot(&c.screenshot().await.expect("screenshot"), "audit.png");
    c.find(Locator::Css("button.audit-close")).await.expect("back").click().await.expect("back to the persons");
    wait_for(&c, "table.persons").await;
    c.close().await.expect("close the session");
    drop(driver);

    // The CLI reads the same consent; the chain verifies.
    let consent = v.run(["--json", "consent", "show", "--person", &person]).ok().json();
    let exceptions = consent["sharing"]["exceptions"].as_array().expect("exceptions");
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0]["kind"]["category"]["category"], "mental_health");
    let caregivers = consent["caregivers"].as_array().expect("caregivers");
    assert_eq!(caregivers.len(), 1);
    assert_eq!((caregivers[0]["id"].as_str(), caregivers[0]["access"].as_str()), (Some("hanako"), Some("read_only")));
    assert!(caregivers[0]["revoked_at"].is_null() && caregivers[0]["expires_at"].is_null());
    let events = consent["research"]["events"].as_array().expect("research events");
    assert_eq!(events.last().map(|e| e["choice"].clone()), Some(json!("opt_out")));
    let verified = v.run(["--json", "audit", "verify"]).ok().json();
    assert_eq!((verified["ok"].as_bool(), verified["entries"].as_u64()), (Some(true), Some(3)));
}

/// A new user's first run without the command line: no vault yet → the first-run screen →
/// a generated recovery key, read off the page and confirmed → the empty vault, unlocked →
/// Import (files chosen by `TECHO_IMPORT_FILES` instead of the native dialog) with progress and
/// per-file counts → Settings: auto-lock 5 minutes, dark theme, 日本語 → Lock → unlock with the
/// recovery key → the CLI opens the vault with the same key.
#[tokio::test(flavor = "current_thread")]
async fn a_new_user_creates_a_vault_imports_a_record_and_sets_the_language() {
    if !enabled() {
        return;
    }
    let v = TempVault::uninitialised();
    // A synthetic record to import, made with the CLI (no vault needed).
    let record = v.root().join("inputs").join("record.ndjson");
    let gen = v.command().args(["gen", "--resources", "300", "--format", "ndjson", "--out"]).arg(&record).output().expect("run techo gen");
    assert!(gen.status.success(), "techo gen failed: {}", String::from_utf8_lossy(&gen.stderr));
    let files = record.display().to_string();
    let driver = Driver::start_with(&v, &[("TECHO_IMPORT_FILES", files.as_str())]);
    let c = driver.client().await;

    // First run: generate a recovery key; it is shown once, as 6 groups of 5 characters.
    wait_for(&c, "section.first-run").await;
    assert!(c.find(Locator::Css("#passphrase")).await.is_err(), "no unlock form without a vault");
    wait_for(&c, "button.make-key").await.click().await.expect("generate a recovery key");
    let key = wait_for(&c, "code.recovery-key").await.text().await.expect("the key's text").trim().to_owned();
    let groups: Vec<&str> = key.split('-').collect();
    assert_eq!(groups.len(), 6, "six groups");
    assert!(groups.iter().all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))), "base32 groups");

    // A wrong confirmation is refused; the last two groups confirm it.
    let confirm = wait_for(&c, "#key-confirm").await;
    let wrong = if groups[4] == "AAAAA" { "BBBBB-BBBBB" } else { "AAAAA-AAAAA" };
    confirm.send_keys(wrong).await.expect("type a wrong confirmation");
    c.find(Locator::Css("form.confirm-key button.create-vault")).await.expect("create").click().await.expect("click create");
    wait_for_text(&c, ".first-run .notice.error", "match").await;
    assert!(!v.dir.join("keys.json").exists(), "no vault before the key is confirmed");
    confirm.clear().await.expect("clear the field");
    confirm.send_keys(&format!("{}-{}", groups[4], groups[5])).await.expect("type the last two groups");
    // The key on screen with its confirmation typed (the key of a throwaway test vault).
    wait_for_text(&c, "code.recovery-key", &key).await;
    // WebKit's first screenshot of a session can show an older frame: let it repaint.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "first-run.png");
    c.find(Locator::Css("form.confirm-key button.create-vault")).await.expect("create").click().await.expect("click create");

    // Unlocked and empty; without a keyring the passphrase is needed each time, and it says so.
    wait_for(&c, ".toolbar").await;
    wait_for_text(&c, ".notice.note", "each time").await;
    assert!(c.find(Locator::Css("table.persons")).await.is_err(), "a new vault holds nobody");
    assert!(c.find(Locator::Css("code.recovery-key")).await.is_err(), "the key is shown only once");

    // Import: progress, then one line per file with its counts.
    c.find(Locator::Css("button.import-open")).await.expect("the Import button").click().await.expect("open import");
    wait_for(&c, "section.import").await;
    c.find(Locator::Css("button.import-pick")).await.expect("choose files").click().await.expect("start the import");
    let line = wait_for_text(&c, "li.import-result.done", "resources").await;
    assert!(line.contains("record.ndjson"), "the result names the file: {line:?}");
    let new: u64 = line
        .split("new ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count of new records in {line:?}"));
    assert!(new > 0 && line.contains("updated 0") && line.contains("unchanged 0"), "{line:?}");
    let bar = c.find(Locator::Css("progress.import-progress")).await.expect("the progress bar");
    assert_eq!(bar.attr("value").await.expect("value"), bar.attr("max").await.expect("max"), "the bar is full");
    wait_for_text(&c, ".import-state", "100%").await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "import.png");

    // Back: the persons table shows the imported resources.
    c.find(Locator::Css("section.import button.back")).await.expect("back").click().await.expect("go back");
    let table = wait_for(&c, "table.persons").await.text().await.expect("the table's text");
    let stats = v.run_with_passphrase(&key, ["--json", "stats"]).ok().json();
    let resources = stats["resources"].as_u64().expect("the CLI counts resources");
    assert!(resources > 0);
    assert!(table.contains(&techo_count(resources)) || table.contains(&resources.to_string()), "the count is in the table: {table:?}");

    // Settings: 5 minutes, dark, 日本語 → the settings screen speaks Japanese.
    c.find(Locator::Css("button.settings-open")).await.expect("the Settings button").click().await.expect("open settings");
    let minutes = wait_for(&c, "#auto-lock-minutes").await;
    minutes.clear().await.expect("clear minutes");
    minutes.send_keys("5").await.expect("type 5");
    c.find(Locator::Css("select#theme")).await.expect("theme").select_by_value("dark").await.expect("choose dark");
    c.find(Locator::Css("select#language")).await.expect("language").select_by_value("ja").await.expect("choose 日本語");
    c.find(Locator::Css("button.save-settings")).await.expect("save").click().await.expect("save settings");
    wait_for_text(&c, ".settings-saved", "保存しました").await;
    wait_for_text(&c, "section.settings h2", "設定").await;
    wait_for_text(&c, "button.save-settings", "設定を保存").await;
    let class = c.execute("return document.documentElement.className;", vec![]).await.expect("the page's class");
    assert_eq!(class, json!("theme-dark"));
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "settings-ja.png");

    // Lock, then unlock with the recovery key: the settings were kept in the vault.
    c.find(Locator::Css(".toolbar button.secondary")).await.expect("the Lock button").click().await.expect("lock");
    unlock(&c, &key).await;
    wait_for_text(&c, ".toolbar button.import-open", "取り込み").await;
    c.find(Locator::Css("button.settings-open")).await.expect("設定").click().await.expect("open settings");
    let minutes = wait_for(&c, "#auto-lock-minutes").await;
    assert_eq!(minutes.prop("value").await.expect("minutes").as_deref(), Some("5"));
    c.close().await.expect("close the session");
    drop(driver);

    // The CLI reads the vault with the same key.
    let again = v.run_with_passphrase(&key, ["--json", "stats"]).ok().json();
    assert_eq!(again["resources"].as_u64(), Some(resources));
}

/// The value of the first `<option>` of `select` whose words start with `prefix`.
async fn option_value(c: &Client, select: &str, prefix: &str) -> Option<String> {
    for o in c.find_all(Locator::Css(&format!("{select} option"))).await.expect("options") {
        if o.text().await.expect("option words").starts_with(prefix) {
            return o.attr("value").await.expect("option value");
        }
    }
    None
}

/// The types and labels of the timeline's rendered entries.
async fn rendered_entries(c: &Client) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(".timeline li.entry")).await.expect("entries") {
        let t = e.find(Locator::Css(".rtype")).await.expect("type").text().await.expect("type words");
        let l = e.find(Locator::Css(".label")).await.expect("label").text().await.expect("label words");
        out.push((t, l));
    }
    out
}

/// Waits until the timeline shows the outcome of a filter: its summary says so and it is done.
async fn wait_for_filtered(c: &Client) -> u64 {
    wait_for_text(c, ".timeline-summary", "matching").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = c.find(Locator::Css(".timeline")).await.expect("the timeline");
        let loaded: u64 = t.attr("data-loaded").await.expect("attr").unwrap_or_default().parse().unwrap_or(0);
        let summary = c.find(Locator::Css(".timeline-summary")).await.expect("summary").text().await.expect("words");
        if loaded > 0 && summary.starts_with(&techo_count(loaded)) {
            return loaded;
        }
        assert!(Instant::now() < deadline, "the filtered timeline never settled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Issue 4 in the window: a generated record from three facilities plus a clinic that sent a
/// part of it again; the timeline is grouped by day and filtered by category (lab results
/// only) and by facility; the lab results view draws a test's trend; a record's detail shows
/// its sources and opens a version; a Japanese word typed into search finds records without
/// pressing Enter.
#[tokio::test(flavor = "current_thread")]
async fn a_person_filters_the_timeline_reads_lab_trends_and_searches_as_they_type() {
    if !enabled() {
        return;
    }
    let v = TempVault::new();
    let file = v.tmp_dir().join("record.ndjson");
    v.run(["gen", "--resources", "2000", "--facilities", "3", "--seed", "5", "--format", "ndjson", "--out"].map(String::from).into_iter().chain([file.display().to_string()])).ok();
    v.run(["import".to_string(), file.display().to_string(), "--source".into(), "Sakura Hospital".into()]).ok();
    let persons = v.run(["--json", "person", "list"]).ok().json();
    let person = persons[0]["id"].to_string();
    // A clinic that sent every 25th resource again: the same records, a second source.
    let text = std::fs::read_to_string(&file).expect("the generated record");
    let part: Vec<&str> = text.lines().enumerate().filter(|(i, _)| i % 25 == 0).map(|(_, l)| l).collect();
    let clinic = v.tmp_dir().join("clinic.ndjson");
    std::fs::write(&clinic, part.join("\n")).expect("write the clinic's file");
    v.run(["import".to_string(), clinic.display().to_string(), "--source".into(), "Kaede Clinic".into(), "--person".into(), person.clone()]).ok();
    let expected = v.run(["--json", "search", "高血圧", "--person", &person, "--limit", "100"]).ok().json();
    let expected = expected.as_array().map_or(0, Vec::len);
    assert!(expected > 0, "the generated record mentions 高血圧");

    let driver = Driver::start(&v);
    let c = driver.client().await;
    unlock(&c, &v.passphrase).await;
    wait_for(&c, "button.person").await.click().await.expect("open the record");
    wait_for(&c, ".timeline li.entry").await;
    assert!(!c.find_all(Locator::Css(".timeline li.day-head h3")).await.expect("day headings").is_empty(), "entries are grouped by day");
    let all = wait_for_loaded(&c, 100).await;

    // Lab results only.
    wait_for(&c, "#filter-category").await.select_by_value("lab_results").await.expect("choose lab results");
    let labs = wait_for_filtered(&c).await;
    let shown = rendered_entries(&c).await;
    assert!(!shown.is_empty());
    for (t, label) in &shown {
        assert_eq!(t, "Observation", "only lab results");
        assert!(!["血圧", "体温", "脈拍", "体重", "身長", "呼吸数", "SpO2"].iter().any(|w| label.contains(w)), "a vital sign among the lab results: {label}");
    }
    // And one facility: fewer, all of them complete.
    let kaede = option_value(&c, "#filter-source", "Kaede Clinic").await.expect("the clinic in the source filter");
    c.find(Locator::Css("#filter-source")).await.expect("source filter").select_by_value(&kaede).await.expect("choose the clinic");
    let deadline = Instant::now() + Duration::from_secs(30);
    let from_kaede = loop {
        let t = c.find(Locator::Css(".timeline")).await.expect("the timeline");
        let complete = t.attr("data-complete").await.expect("attr").as_deref() == Some("true");
        let n: u64 = t.attr("data-loaded").await.expect("attr").unwrap_or_default().parse().unwrap_or(0);
        if complete && n > 0 && n < labs.max(100) {
            break n;
        }
        assert!(Instant::now() < deadline, "the clinic's lab results never showed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(rendered_entries(&c).await.iter().all(|(t, _)| t == "Observation"));
    eprintln!("e2e: {all}+ records, {labs}+ lab results, {from_kaede} lab results from the clinic");
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "timeline-filters.png");

    // The lab results view (all facilities again): the table and a test's trend.
    c.find(Locator::Css("#filter-source")).await.expect("source filter").select_by_value("").await.expect("all sources");
    c.find(Locator::Css("button.labs-open")).await.expect("the lab results button").click().await.expect("open lab results");
    wait_for(&c, "table.labs tr.lab-row").await;
    let hba1c = option_value(&c, "#lab-test", "HbA1c").await;
    let test = match hba1c {
        Some(v) => v,
        None => c.find(Locator::Css("#lab-test option")).await.expect("a test").attr("value").await.expect("value").expect("a value"),
    };
    c.find(Locator::Css("#lab-test")).await.expect("the test select").select_by_value(&test).await.expect("choose a test");
    wait_for(&c, "svg.lab-chart circle.point").await;
    let points = c.find_all(Locator::Css("svg.lab-chart circle.point")).await.expect("points").len();
    assert!(points >= 2, "the trend has points: {points}");
    let row = c.find(Locator::Css("table.labs tr.lab-row")).await.expect("a lab row").text().await.expect("its words");
    assert!(!row.trim().is_empty());
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "lab-trend.png");

    // A result's detail: its sources, its versions (the current one opens as text).
    c.find(Locator::Css("table.labs button.lab-open")).await.expect("a result").click().await.expect("open it");
    wait_for_text(&c, "aside.detail pre.json", "\"resourceType\"").await;
    assert!(!c.find_all(Locator::Css("aside.detail ul.sources li")).await.expect("sources").is_empty());
    wait_for(&c, "aside.detail ul.versions button.version-open").await.click().await.expect("open a version");
    wait_for_text(&c, "aside.detail pre.version-json", "\"resourceType\"").await;

    // Search as you type, in Japanese: one character asks for more; three find records.
    c.find(Locator::Css("button.labs-close")).await.expect("back to the timeline").click().await.expect("back");
    let search = wait_for(&c, "#search").await;
    search.send_keys("高").await.expect("type");
    wait_for_text(&c, ".search-note", "at least 2 characters").await;
    for ch in ["血", "圧"] {
        tokio::time::sleep(Duration::from_millis(60)).await;
        search.send_keys(ch).await.expect("type");
    }
    wait_for(&c, ".results li.entry").await;
    wait_for_text(&c, ".results-summary", "for “高血圧”").await;
    let found = c.find_all(Locator::Css(".results li.entry")).await.expect("results").len();
    assert_eq!(found, expected, "the window finds what the CLI finds, without Enter");
    c.close().await.expect("close the session");
    drop(driver);
}

/// Home vitals and sources in Japanese: the language is set once in Settings (the CLI has no
/// command for it), then the vitals screen (kind selector, form, handbook, diary, calendar)
/// and the sources screen (demo hospital, sign-in, sync report) speak Japanese; a blood-pressure
/// reading entered there lands in the list and the handbook.
#[tokio::test(flavor = "current_thread")]
async fn home_vitals_and_sources_read_in_japanese() {
    if !enabled() {
        return;
    }
    let (vault, persons) = vault_with_two_persons();
    let first = &persons[0];
    let driver = Driver::start_with(&vault, &[("TECHO_NO_BROWSER", "1"), ("TECHO_DEMO_PORT", "0")]);
    let c = driver.client().await;
    unlock(&c, &vault.passphrase).await;
    wait_for(&c, "table.persons").await;

    // Settings: 日本語, kept in the vault (`setting.language`).
    c.find(Locator::Css("button.settings-open")).await.expect("the Settings button").click().await.expect("open settings");
    wait_for(&c, "select#language").await.select_by_value("ja").await.expect("choose 日本語");
    c.find(Locator::Css("button.save-settings")).await.expect("save").click().await.expect("save settings");
    wait_for_text(&c, ".settings-saved", "保存しました").await;
    c.find(Locator::Css("section.settings button.back")).await.expect("back").click().await.expect("back to persons");

    // Home vitals: the kind selector, the form, the handbook, the diary and the calendar.
    wait_for(&c, "button.person").await.click().await.expect("open the record");
    wait_for_text(&c, "h2.whose", &first.name).await;
    wait_for(&c, "button.vitals-open").await.click().await.expect("open home vitals");
    wait_for(&c, "section.vitals").await;
    let kind = wait_for(&c, "select#vital-kind").await;
    assert_eq!(kind.prop("value").await.expect("the kind").as_deref(), Some("blood-pressure"));
    wait_for_text(&c, "select#vital-kind", "血圧").await;
    let kinds = c.find(Locator::Css("select#vital-kind")).await.expect("kinds").text().await.expect("text");
    assert!(kinds.contains("体温") && kinds.contains("体重"), "the kinds' Japanese names: {kinds:?}");
    wait_for_text(&c, "label[for=vital-at]", "測定日時").await;
    wait_for_text(&c, "label[for=systolic]", "最高血圧").await;
    wait_for_text(&c, "label[for=diastolic]", "最低血圧").await;
    wait_for_text(&c, "label[for=pulse]", "脈拍").await;
    wait_for_text(&c, "select#bp-context", "朝").await;
    wait_for_text(&c, "button.save-vital", "記録する").await;
    wait_for_text(&c, "section.bp-handbook h3", "家庭血圧手帳").await;
    wait_for_text(&c, "button.print", "印刷").await;
    wait_for_text(&c, "button.save-target", "目標値を保存").await;
    wait_for_text(&c, "section.diary h3", "日誌").await;
    let diaries = wait_for_text(&c, "select#diary-kind", "ぜんそく日誌").await;
    assert!(diaries.contains("関節痛日誌") && diaries.contains("気分・症状"), "{diaries:?}");
    wait_for_text(&c, "label[for=diary-mood]", "今日の気分").await;
    let head = wait_for_text(&c, "table.calendar thead", "月").await;
    assert!(["火", "水", "木", "金", "土", "日"].iter().all(|d| head.contains(d)), "Japanese weekdays: {head:?}");
    assert!(!head.contains("Mon"), "{head:?}");
    wait_for_text(&c, "h3.cal-month", "年").await;

    // A reading in Japanese: 128/82, 脈拍 70, 朝.
    wait_for(&c, "input#systolic").await.send_keys("128").await.expect("type");
    c.find(Locator::Css("input#diastolic")).await.expect("diastolic").send_keys("82").await.expect("type");
    c.find(Locator::Css("input#pulse")).await.expect("pulse").send_keys("70").await.expect("type");
    c.find(Locator::Css("select#bp-context")).await.expect("朝/晩").select_by_value("morning").await.expect("choose 朝");
    c.find(Locator::Css("button.save-vital")).await.expect("save").click().await.expect("save the reading");
    wait_for_text(&c, "section.vitals .notice.note", "保存しました").await;
    wait_for_text(&c, "ul.vital-list", "128/82 mmHg").await;
    wait_for_text(&c, "ul.vital-list .badge.home", "自宅").await;
    wait_for_text(&c, "ul.vital-list button.delete-entry", "削除").await;
    wait_for_text(&c, ".chart-legend", "自宅で入力").await;
    wait_for_text(&c, "table.handbook tr.week:first-child td.morning", "128/82").await;
    let handbook = wait_for_text(&c, "table.handbook thead", "朝").await;
    assert!(handbook.contains("晩") && handbook.contains("週ごとの平均"), "{handbook:?}");
    wait_for_text(&c, ".handbook-target", "目標値").await;
    // An empty upper value is refused in Japanese.
    c.find(Locator::Css("input#systolic")).await.expect("systolic").clear().await.expect("clear");
    c.execute("document.querySelector('input#systolic').required = false;", vec![]).await.expect("let the form send an empty field");
    c.find(Locator::Css("button.save-vital")).await.expect("save").click().await.expect("save");
    wait_for_text(&c, "section.vitals .notice.error", "最高血圧(収縮期)を入力してください").await;
    // The same reading again is caught, in Japanese.
    c.find(Locator::Css("input#systolic")).await.expect("systolic").send_keys("128").await.expect("type");
    c.find(Locator::Css("button.save-vital")).await.expect("save").click().await.expect("save again");
    wait_for_text(&c, "section.vitals .notice.note", "記録済みです").await;
    c.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll to the top");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "vitals-ja.png");
    c.find(Locator::Css("button.vitals-close")).await.expect("back").click().await.expect("back to the record");

    // Sources: the demo hospital, sign-in and a sync, in Japanese.
    wait_for(&c, "button.sources-open").await.click().await.expect("open Sources");
    wait_for(&c, "section.sources").await;
    wait_for_text(&c, "section.sources h2", "医療機関").await;
    wait_for_text(&c, ".no-endpoints", "医療機関はまだ登録されていません").await;
    wait_for_text(&c, "label[for=sync-interval]", "同期の間隔").await;
    wait_for_text(&c, "select#sync-interval", "1 時間ごと").await;
    wait_for_text(&c, "form.add-endpoint h3", "医療機関を追加").await;
    wait_for_text(&c, "button.add-demo", "デモ病院を追加").await;
    c.find(Locator::Css("button.add-demo")).await.expect("add the demo hospital").click().await.expect("add it");
    wait_for_text(&c, "section.sources .notice.note", "追加しました").await;
    wait_for(&c, "li.endpoint[data-state=needs-sign-in]").await;
    wait_for_text(&c, "li.endpoint .badge.state", "サインインが必要").await;
    wait_for_text(&c, "li.endpoint dd.last-sync", "未同期").await;
    let facts = wait_for_text(&c, "li.endpoint dl.endpoint-facts", "最終同期").await;
    assert!(facts.contains("誰の記録") && facts.contains("未サインイン"), "{facts:?}");
    wait_for_text(&c, "button.sign-in", "サインイン").await;
    wait_for(&c, "button.sign-in").await.click().await.expect("sign in");
    wait_for_text(&c, ".sign-in-panel.waiting .sign-in-message", "サインインしています").await;
    let url = wait_for_start(&c, "p.sign-in-url", "http://127.0.0.1:").await;
    tokio::task::spawn_blocking(move || {
        let back = techo_demo::hospital::sign_in(url.trim(), techo_demo::hospital::Decision::Allow).expect("the demo hospital's sign-in page");
        let page = reqwest::blocking::get(&back).expect("the app's redirect listener answers");
        assert_eq!(page.status().as_u16(), 200);
    })
    .await
    .expect("the browser's part");
    wait_for_text(&c, ".sign-in-panel.done", "サインインしました").await;
    wait_for(&c, "li.endpoint[data-state=ready]").await;
    wait_for_text(&c, "button.sync-all", "すべて今すぐ同期").await;
    wait_for(&c, "button.sync-all").await.click().await.expect("sync all");
    wait_for(&c, "article.sync-report.ok").await;
    let counts = wait_for_text(&c, "article.sync-report.ok .report-counts", "件受信").await;
    assert!(counts.contains("新規") && counts.contains("更新") && counts.contains("変更なし"), "{counts:?}");
    wait_for_text(&c, "article.sync-report.ok .badge.outcome", "同期しました").await;
    wait_for_text(&c, "article.sync-report.ok .report-when", "所要時間").await;
    wait_for_text(&c, "section.sync-reports h3", "最近の同期").await;
    c.find(Locator::Css(".sign-in-panel button.sign-in-close")).await.expect("閉じる").click().await.expect("close the panel");
    c.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll to the top");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "sources-ja.png");
    c.close().await.expect("close the session");
    drop(driver);

    // The reading entered in Japanese is in the vault like any other.
    let bp = vault.run(["--json", "vitals", "list", "--person", &first.id, "--kind", "bp"]).ok().json();
    assert!(bp.as_array().is_some_and(|l| l.iter().any(|r| r.to_string().contains("128"))), "the reading is in the vault");
}

/// Whether `s` reads like a Japanese date heading: `2025年10月20日`.
fn is_japanese_day(s: &str) -> bool {
    let Some((y, rest)) = s.split_once('年') else { return false };
    let Some((m, rest)) = rest.split_once('月') else { return false };
    let Some(d) = rest.strip_suffix('日') else { return false };
    y.len() == 4 && [y, m, d].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The record in Japanese: the language is set once in Settings, then the persons table, the
/// toolbar, the timeline (day headings as `2025年10月20日`, the category filter), the lab
/// results view with a trend, a result's detail and search as you type (血圧) speak Japanese.
#[tokio::test(flavor = "current_thread")]
async fn the_record_reads_in_japanese() {
    if !enabled() {
        return;
    }
    let v = TempVault::new();
    let file = v.tmp_dir().join("record.ndjson");
    v.run(["gen", "--resources", "1500", "--facilities", "3", "--format", "ndjson", "--out"].map(String::from).into_iter().chain([file.display().to_string()])).ok();
    v.run(["import".to_string(), file.display().to_string()]).ok();
    let persons = v.run(["--json", "person", "list"]).ok().json();
    let person = persons[0]["id"].to_string();
    let expected = v.run(["--json", "search", "血圧", "--person", &person, "--limit", "100"]).ok().json();
    let expected = expected.as_array().map_or(0, Vec::len);
    assert!(expected > 0, "the generated record mentions 血圧");

    let driver = Driver::start(&v);
    let c = driver.client().await;
    unlock(&c, &v.passphrase).await;
    wait_for(&c, "table.persons").await;

    // Settings: 日本語, then back to the persons.
    c.find(Locator::Css("button.settings-open")).await.expect("the Settings button").click().await.expect("open settings");
    wait_for(&c, "select#language").await.select_by_value("ja").await.expect("choose 日本語");
    c.find(Locator::Css("button.save-settings")).await.expect("save").click().await.expect("save settings");
    wait_for_text(&c, ".settings-saved", "保存しました").await;
    c.find(Locator::Css("section.settings button.back")).await.expect("back").click().await.expect("back to persons");

    // The persons table and the toolbar.
    let head = wait_for_text(&c, "table.persons thead", "名前").await;
    assert!(head.contains("続柄") && head.contains("記録の件数") && head.contains("種類別"), "{head:?}");
    assert!(!head.to_lowercase().contains("name"), "{head:?}");
    let summary = wait_for_text(&c, ".toolbar .summary", "件の記録").await;
    assert!(summary.starts_with("1 人"), "{summary:?}");
    wait_for_text(&c, ".toolbar button.sources-open", "医療機関").await;
    wait_for_text(&c, ".toolbar button.lock", "ロック").await;
    wait_for_text(&c, ".toolbar button.import-open", "取り込み").await;
    wait_for_text(&c, "header .tagline", "保管庫").await;
    wait_for_text(&c, "form.add-person h3", "家族を追加").await;
    wait_for_text(&c, "button.add-person", "追加する").await;
    let rels = c.find(Locator::Css("select#person-relationship")).await.expect("relationships").text().await.expect("words");
    assert!(rels.contains("本人") && rels.contains("母") && rels.contains("配偶者"), "{rels:?}");

    // The record: Japanese day headings and category names.
    wait_for(&c, "button.person").await.click().await.expect("open the record");
    wait_for(&c, ".timeline li.entry").await;
    wait_for_loaded(&c, 100).await;
    wait_for_text(&c, ".person-head", "件の記録").await;
    wait_for_text(&c, "button.back", "全員の一覧").await;
    wait_for_text(&c, "button.labs-open", "検査結果").await;
    wait_for_text(&c, "button.vitals-open", "自宅での記録").await;
    wait_for_text(&c, ".timeline-summary", "件の記録").await;
    let placeholder = c.find(Locator::Css("#search")).await.expect("search").attr("placeholder").await.expect("attr").unwrap_or_default();
    assert!(placeholder.contains("検索"), "{placeholder:?}");
    let mut days = Vec::new();
    for h in c.find_all(Locator::Css(".timeline li.day-head h3")).await.expect("day headings") {
        days.push(h.text().await.expect("a heading's words"));
    }
    assert!(!days.is_empty(), "entries are grouped by day");
    assert!(days.iter().all(|d| is_japanese_day(d) || d == "日付なし"), "Japanese day headings: {days:?}");
    assert!(days.iter().any(|d| is_japanese_day(d)), "{days:?}");
    let categories = wait_for_text(&c, "#filter-category", "すべての記録").await;
    for w in ["診断名", "処方", "アレルギー", "検査結果", "予防接種", "処置", "受診", "文書", "自宅での記録"] {
        assert!(categories.contains(w), "the category {w} in {categories:?}");
    }
    assert!(!categories.contains("Lab results"), "{categories:?}");
    let filters = c.find(Locator::Css("form.filters")).await.expect("filters").text().await.expect("words");
    assert!(filters.contains("分類") && filters.contains("提供元") && filters.contains("開始日"), "{filters:?}");
    c.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll to the top");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "record-ja.png");

    // Lab results only: the summary says how many match, in Japanese.
    c.find(Locator::Css("#filter-category")).await.expect("category filter").select_by_value("lab_results").await.expect("choose lab results");
    wait_for_text(&c, ".timeline-summary", "該当する記録").await;
    wait_for_text(&c, "button.clear-filters", "絞り込みを解除").await;
    c.find(Locator::Css("button.clear-filters")).await.expect("clear").click().await.expect("clear the filters");

    // The lab results view: the table's headers, the flags and a trend.
    c.find(Locator::Css("button.labs-open")).await.expect("the lab results button").click().await.expect("open lab results");
    wait_for(&c, "table.labs tr.lab-row").await;
    wait_for_text(&c, ".labs-head h3", "検査結果").await;
    wait_for_text(&c, "button.labs-close", "タイムライン").await;
    let head = wait_for_text(&c, "table.labs thead", "検査項目").await;
    for w in ["結果", "基準範囲", "判定", "検査日", "医療機関"] {
        assert!(head.contains(w), "{w} in {head:?}");
    }
    let mut flags = Vec::new();
    for f in c.find_all(Locator::Css("table.labs td.flag")).await.expect("flags") {
        flags.push(f.text().await.expect("a flag"));
    }
    assert!(flags.iter().all(|f| ["", "高", "低", "異常"].contains(&f.trim())), "Japanese flags: {flags:?}");
    let first_date = c.find(Locator::Css("table.labs tr.lab-row td:nth-child(5)")).await.expect("a date").text().await.expect("words");
    assert!(is_japanese_day(first_date.trim()), "{first_date:?}");
    let test = match option_value(&c, "#lab-test", "HbA1c").await {
        Some(v) => v,
        None => c.find(Locator::Css("#lab-test option")).await.expect("a test").attr("value").await.expect("value").expect("a value"),
    };
    c.find(Locator::Css("#lab-test")).await.expect("the test select").select_by_value(&test).await.expect("choose a test");
    wait_for(&c, "svg.lab-chart circle.point").await;
    let points = c.find_all(Locator::Css("svg.lab-chart circle.point")).await.expect("points").len();
    assert!(points >= 2, "the trend has points: {points}");
    wait_for_text(&c, ".chart-legend", "の結果").await;
    wait_for_text(&c, "svg.lab-chart text.axis-date", "年").await;
    wait_for_text(&c, "label.lab-test-choice", "推移").await;
    c.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll to the top");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "lab-trend-ja.png");

    // A result's detail.
    c.find(Locator::Css("table.labs button.lab-open")).await.expect("a result").click().await.expect("open it");
    wait_for_text(&c, "aside.detail pre.json", "\"resourceType\"").await;
    let detail = wait_for_text(&c, "aside.detail", "提供元").await;
    assert!(detail.contains("版の履歴") && detail.contains("第 1 版") && detail.contains("受信"), "{detail:?}");
    wait_for_text(&c, "aside.detail button.close", "閉じる").await;

    // Search as you type: one character asks for more, in Japanese; two find records.
    c.find(Locator::Css("button.labs-close")).await.expect("back to the timeline").click().await.expect("back");
    let search = wait_for(&c, "#search").await;
    search.send_keys("血").await.expect("type");
    wait_for_text(&c, ".search-note", "2 文字以上").await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    search.send_keys("圧").await.expect("type");
    wait_for(&c, ".results li.entry").await;
    wait_for_text(&c, ".results-summary", "「血圧」の検索結果").await;
    wait_for_text(&c, "button.clear", "タイムラインに戻る").await;
    let found = c.find_all(Locator::Css(".results li.entry")).await.expect("results").len();
    assert_eq!(found, expected, "the window finds what the CLI finds, without Enter");
    let day = c.find(Locator::Css(".results section.day h3")).await.expect("a day").text().await.expect("words");
    assert!(is_japanese_day(&day) || day == "日付なし", "{day:?}");
    // Locked, and after a restart, the unlock screen is already Japanese (the language is
    // remembered on this computer; the vault holding the settings is still locked).
    c.find(Locator::Css("button.lock")).await.expect("lock").click().await.expect("lock the vault");
    wait_for_text(&c, "section.card h2", "保管庫のロックを解除").await;
    c.close().await.expect("close the session");
    drop(driver);
    let driver = Driver::start(&v);
    let c = driver.client().await;
    wait_for_text(&c, "section.card h2", "保管庫のロックを解除").await;
    wait_for_text(&c, "form.unlock button[type=submit]", "ロック解除").await;
    c.close().await.expect("close the session");
    drop(driver);
}

/// Sharing in the app (issue 7): a person makes an encrypted package of their summary for a
/// doctor (the link and its QR code on screen; consent withholds a category); then, in a second
/// Techo with no vault at all, the viewer opens the package with the link: summary first (in
/// English, then in Japanese), the print view, the resources and one resource's JSON. Closing
/// the viewer leaves no plaintext in that Techo's home, data, cache or temp folders, and no
/// vault is made. Screenshots: share.png, viewer-summary-en.png, viewer-summary-ja.png,
/// viewer-print-ja.png.
#[tokio::test(flavor = "current_thread")]
async fn a_person_shares_a_summary_and_a_clinician_opens_it_in_the_viewer() {
    if !enabled() {
        return;
    }
    const CANARY: &str = "Wq8e2ecanary";
    let v = TempVault::new();
    let file = v.tmp_dir().join("record.ndjson");
    v.run(["gen", "--resources", "1500", "--facilities", "3", "--format", "ndjson", "--out"].map(String::from).into_iter().chain([file.display().to_string()])).ok();
    v.run(["import".to_string(), file.display().to_string(), "--source".into(), "みどり総合病院".into()]).ok();
    let extra = v.input(
        "sakura.json",
        format!(
            r#"{{"resourceType":"Bundle","type":"collection","entry":[
            {{"resource":{{"resourceType":"Condition","id":"c1","clinicalStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}}]}},"code":{{"coding":[{{"system":"http://hl7.org/fhir/sid/icd-10","code":"F32.9","display":"うつ病"}}]}},"onsetDateTime":"2024-03-01"}}}},
            {{"resource":{{"resourceType":"AllergyIntolerance","id":"a1","clinicalStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}}]}},"criticality":"high","code":{{"text":"ペニシリン"}},"note":[{{"text":"{CANARY}"}}]}}}}]}}"#
        ),
    );
    v.run(["import", extra.to_str().unwrap(), "--person", "1", "--source", "Sakura Hospital"]).ok();
    v.run(["consent", "deny", "category", "mental-health"]).ok();
    let shares = v.tmp_dir().join("shares");
    std::fs::create_dir_all(&shares).unwrap();

    let relay = techo_demo::Hospital::start(techo_demo::HospitalConfig { resources: 10, auth: techo_demo::Auth::Open, ..Default::default() }).expect("a relay");

    // 1. The person shares a summary with a doctor: as a file, then through a relay.
    let (link, relay_link) = {
        let driver = Driver::start_with(&v, &[("TECHO_SHARE_DIR", shares.to_str().unwrap())]);
        let c = driver.client().await;
        unlock(&c, &v.passphrase).await;
        wait_for(&c, "table.persons").await;
        c.find(Locator::Css("button.share-open")).await.expect("the Share button").click().await.expect("open Share");
        wait_for(&c, "#share-to").await.send_keys("Sakura Hospital").await.expect("type the provider");
        c.find(Locator::Css("#share-label")).await.expect("label").send_keys("For Dr. Sato").await.expect("type the label");
        c.find(Locator::Css("button.share-create")).await.expect("create").click().await.expect("make the package");
        let made = wait_for_text(&c, ".share-made .notice", "held back").await;
        assert!(made.contains("1 held back"), "{made:?}");
        wait_for(&c, ".share-qr svg").await;
        let link = wait_for(&c, "#share-link").await.prop("value").await.expect("the link").unwrap_or_default();
        assert!(link.starts_with("shlink:/"), "the link is shown");
        c.execute("document.querySelector('.share-made').scrollIntoView()", vec![]).await.expect("scroll to the link");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let shot = c.screenshot().await.expect("screenshot");
        save_screenshot(&shot, "share.png");
        // Again, through the relay: nothing saved here, the link is all the doctor needs.
        c.find(Locator::Css("#share-relay")).await.expect("relay").send_keys(&relay.relay_url()).await.expect("type the relay");
        c.find(Locator::Css("button.share-create")).await.expect("create").click().await.expect("make the relayed package");
        let relay_link = loop {
            let l = c.find(Locator::Css("#share-link")).await.expect("link").prop("value").await.expect("value").unwrap_or_default();
            if l != link && l.starts_with("shlink:/") {
                break l;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        (link, relay_link)
    };
    assert_eq!(relay.relayed().len(), 1, "one package on the relay");
    assert!(relay.relayed().iter().all(|b| !b.windows(CANARY.len()).any(|w| w == CANARY.as_bytes())), "the relay holds ciphertext only");
    let packages: Vec<PathBuf> = std::fs::read_dir(&shares).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(packages.len(), 1, "one package saved");
    assert!(find_in_tree(&shares, CANARY.as_bytes()).is_empty(), "the package is encrypted");
    let plain = v.run(["package", "open", packages[0].to_str().unwrap(), "--link", &link, "--json"]).ok().stdout_str();
    assert!(plain.contains(CANARY), "the canary travels in the package (so the disk check below means something)");
    let audit = v.run(["--json", "audit", "list"]).ok().json();
    let last = audit.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "share");
    assert_eq!(last["event"]["entity"][1]["name"], "International Patient Summary");

    // 2. A clinician's Techo, with no vault, opens it in the viewer.
    let clinic = TempVault::uninitialised();
    let tmp = clinic.tmp_dir();
    std::fs::create_dir_all(&tmp).unwrap();
    {
        let driver = Driver::start_with(&clinic, &[("TECHO_PACKAGE_FILE", packages[0].to_str().unwrap()), ("TMPDIR", tmp.to_str().unwrap())]);
        let c = driver.client().await;
        let open_viewer = || async {
            wait_for(&c, "button.viewer-first").await.click().await.expect("open the viewer");
            wait_for(&c, "#viewer-link").await.send_keys(&link).await.expect("paste the link");
            c.find(Locator::Css("button.viewer-open")).await.expect("open").click().await.expect("open the package");
            wait_for(&c, ".viewer-summary .techo-summary").await;
        };
        open_viewer().await;
        let summary = wait_for_text(&c, ".viewer-summary", "Allerg").await;
        assert!(summary.contains("ペニシリン"), "the allergy is in the summary");
        assert!(!summary.contains("F32") && !summary.contains("うつ病"), "the withheld condition is not");
        wait_for_text(&c, ".withheld", "withheld").await;
        wait_for_text(&c, ".viewer-facts", "Sakura Hospital").await;
        wait_for_text(&c, ".viewer-facts", "みどり総合病院").await;
        wait_for_text(&c, ".viewer-facts", "For Dr. Sato").await;
        let shot = c.screenshot().await.expect("screenshot");
        save_screenshot(&shot, "viewer-summary-en.png");
        // The resources, and one as JSON text.
        wait_for(&c, "button.viewer-row").await.click().await.expect("open a resource");
        wait_for(&c, "ul.viewer-rows pre.json").await;
        // Close; choose 日本語 on the first-run screen; open again.
        c.find(Locator::Css("button.viewer-close")).await.expect("close").click().await.expect("close the viewer");
        wait_for(&c, "select#first-run-language").await.select_by_value("ja").await.expect("日本語");
        open_viewer().await;
        wait_for_text(&c, ".viewer-summary", "アレルギー").await;
        wait_for_text(&c, ".withheld", "共有されていません").await;
        let shot = c.screenshot().await.expect("screenshot");
        save_screenshot(&shot, "viewer-summary-ja.png");
        c.find(Locator::Css("button.print-view-open")).await.expect("print view").click().await.expect("open the print view");
        wait_for(&c, ".print-view .printable .techo-summary").await;
        let shot = c.screenshot().await.expect("screenshot");
        save_screenshot(&shot, "viewer-print-ja.png");
        c.find(Locator::Css("button.exit-print")).await.expect("leave print view").click().await.expect("leave");
        c.find(Locator::Css("button.viewer-close")).await.expect("close").click().await.expect("close the viewer");
        // The relayed package: the link alone.
        wait_for(&c, "button.viewer-first").await.click().await.expect("open the viewer");
        wait_for(&c, "#viewer-link").await.send_keys(&relay_link).await.expect("paste the relay link");
        c.find(Locator::Css("button.viewer-open")).await.expect("open").click().await.expect("open the relayed package");
        wait_for_text(&c, ".viewer-summary", "ペニシリン").await;
        c.find(Locator::Css("button.viewer-close")).await.expect("close").click().await.expect("close the viewer");
        wait_for(&c, "button.viewer-first").await;
        let _ = c.close().await;
    }
    assert!(!clinic.dir.exists(), "the viewer made no vault");
    let hits = find_in_tree(clinic.root(), CANARY.as_bytes());
    assert!(hits.is_empty(), "plaintext reached the clinician's disk: {:?}", hits.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>());
}

/// Caregiver exchange in the app: a mother's Techo makes a package of her records for her
/// daughter's access (CLI); the daughter's Techo opens it in the viewer and keeps it: a new
/// person marked "shared by …" with the records, and the same package kept again adds nothing.
#[tokio::test(flavor = "current_thread")]
async fn a_caregiver_keeps_a_shared_record_in_the_app() {
    if !enabled() {
        return;
    }
    let mother = TempVault::new();
    let file = mother.tmp_dir().join("record.ndjson");
    mother.run(["gen", "--resources", "400", "--seed", "11", "--format", "ndjson", "--out"].map(String::from).into_iter().chain([file.display().to_string()])).ok();
    mother.run(["import".to_string(), file.display().to_string(), "--source".into(), "みどり総合病院".into()]).ok();
    mother.run(["consent", "caregiver", "grant", "hanako", "--name", "娘", "--relationship", "娘"]).ok();
    let package = mother.tmp_dir().join("for-hanako.jwe");
    let link = mother.run(["package", "create", "--caregiver", "hanako", "--out", package.to_str().unwrap()]).ok().stdout_str().trim().to_owned();
    let mother_name = mother.run(["--json", "person", "list"]).ok().json()[0]["display_name"].as_str().unwrap_or_default().to_owned();

    let carer = TempVault::new();
    carer.run(["person", "add", "花子", "--relationship", "self"]).ok();
    let driver = Driver::start_with(&carer, &[("TECHO_PACKAGE_FILE", package.to_str().unwrap())]);
    let c = driver.client().await;
    unlock(&c, &carer.passphrase).await;
    wait_for(&c, "table.persons").await;
    c.find(Locator::Css("button.viewer-open-pane")).await.expect("Open a package").click().await.expect("open the viewer");
    wait_for(&c, "#viewer-link").await.send_keys(&link).await.expect("paste the link");
    c.find(Locator::Css("button.viewer-open")).await.expect("open").click().await.expect("open the package");
    wait_for(&c, ".viewer-summary .techo-summary").await;
    wait_for(&c, "button.viewer-keep").await.click().await.expect("keep it");
    let kept = wait_for_text(&c, ".viewer .notice.note", "new person").await;
    assert!(kept.contains("401 records") || kept.contains("records"), "{kept:?}");
    c.find(Locator::Css("button.viewer-keep")).await.expect("keep again").click().await.expect("keep it again");
    wait_for_text(&c, ".viewer .notice.note", "0 new, 0 updated").await;
    c.find(Locator::Css("button.viewer-close")).await.expect("close").click().await.expect("close the viewer");
    let row = wait_for_text(&c, "table.persons", "shared by").await;
    assert!(row.contains(&mother_name), "the new person is the mother, marked as shared");
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "caregiver-kept.png");
    let _ = c.close().await;
    drop(driver);
    let persons = carer.run(["--json", "person", "list"]).ok().json();
    let persons = persons.as_array().unwrap();
    assert_eq!(persons.len(), 2, "one new person, not two");
    let shared = persons.iter().find(|p| p["shared_by"].is_string()).expect("the shared person");
    let expected = mother.stats()["resources"].as_u64().unwrap();
    assert_eq!(shared["resource_count"].as_u64(), Some(expected), "every record of the mother's, once");
}

/// A document's narrative in the real webview (issue 4: "documents and notes, narrative
/// rendered safely"): a referral letter whose narrative and HTML attachment carry a table,
/// Japanese text and hostile markup (script, event handlers, remote image, javascript: link)
/// reads as formatted text; nothing in it runs or loads; the PDF is named, not fetched.
#[tokio::test(flavor = "current_thread")]
async fn a_documents_narrative_reads_formatted_and_nothing_in_it_runs() {
    if !enabled() {
        return;
    }
    use base64::Engine as _;
    let v = TempVault::new();
    let div = r#"<div xmlns="http://www.w3.org/1999/xhtml"><p><b>紹介状</b>: 高血圧症の経過</p><table><tr><th>項目</th><th>値</th></tr><tr><td>血圧</td><td>142/88</td></tr></table><script>window.__pwned = 1</script><img src="http://127.0.0.1:9/x.png" onerror="window.__pwned = 2"/><a href="javascript:window.__pwned=3">link</a></div>"#;
    let html = base64::engine::general_purpose::STANDARD.encode(r#"<h2>Attachment</h2><p onclick="window.__pwned=4">経過良好</p><iframe src="http://127.0.0.1:9/"></iframe>"#);
    let doc = json!({
        "resourceType": "Bundle", "type": "collection", "entry": [
            { "resource": { "resourceType": "Patient", "id": "p1", "name": [{ "family": "山田", "given": ["花子"] }] } },
            { "resource": { "resourceType": "DocumentReference", "id": "d1", "status": "current",
                "subject": { "reference": "Patient/p1" }, "date": "2025-06-01T10:00:00+09:00",
                "type": { "text": "診療情報提供書" }, "description": "紹介状(さくら病院より)",
                "text": { "status": "generated", "div": div },
                "content": [
                    { "attachment": { "contentType": "text/html", "data": html, "title": "経過" } },
                    { "attachment": { "contentType": "application/pdf", "url": "http://127.0.0.1:9/letter.pdf", "title": "紹介状.pdf", "size": 52000 } }
                ] } }
        ]
    });
    let f = v.input("letter.json", doc.to_string());
    v.run(["import", f.to_str().unwrap(), "--source", "さくら病院"]).ok();

    let driver = Driver::start(&v);
    let c = driver.client().await;
    unlock(&c, &v.passphrase).await;
    wait_for(&c, "button.person").await.click().await.expect("open the record");
    wait_for(&c, ".timeline li.entry").await;
    c.find(Locator::Css("button.entry-open")).await.expect("the letter").click().await.expect("open the letter");
    let text = wait_for_text(&c, "aside.detail .narrative-block", "高血圧症").await;
    assert!(text.contains("142/88") && text.contains("経過良好"), "the narrative and the HTML attachment read");
    assert!(text.contains("紹介状.pdf"), "the PDF is named");
    assert!(!c.find_all(Locator::Css("aside.detail .narrative table")).await.expect("tables").is_empty(), "the table is a table");
    for bad in ["script", "img", "iframe", "a[href]", "[onclick]", "[onerror]"] {
        let n = c.find_all(Locator::Css(&format!("aside.detail .narrative-block {bad}"))).await.expect("query").len();
        assert_eq!(n, 0, "no {bad} in the rendered narrative");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for el in c.find_all(Locator::Css("aside.detail .narrative-block p")).await.expect("paragraphs") {
        let _ = el.click().await;
    }
    let pwned = c.execute("return typeof window.__pwned", vec![]).await.expect("ask the window");
    assert_eq!(pwned, json!("undefined"), "nothing in the narrative ran");
    let shot = c.screenshot().await.expect("screenshot");
    save_screenshot(&shot, "narrative.png");
}
