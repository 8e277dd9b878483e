//! `chitra serve` and `chitra user`: the payment service and its users.

use std::io::Read as _;
use std::sync::Arc;

use chitra_core::FieldError;
use chitra_core::access::{Role, Scope};
use chitra_store::access::NewUser;
use clap::{Args, Subcommand};

use crate::Global;
use crate::commands::{change, open_initialised};
use crate::output::{Failure, Outcome, emit, fields};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Mark session cookies Secure (when served behind TLS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Write the schedule notices' SMS messages to this file, one JSON line each (what a gateway
    /// is given); without it they go to the log.
    #[arg(long)]
    pub notices_to: Option<std::path::PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user (the first administrator, or anyone): the password comes from
    /// `--password-stdin` or the CHITRA_PASSWORD environment variable, never from a flag.
    Add(AddUser),
    /// The users, with their roles and scopes.
    List,
}

#[derive(Args, Debug)]
pub struct AddUser {
    /// 3 to 50 lower-case letters, digits, '.', '_' or '-'.
    #[arg(long)]
    pub username: String,
    /// The name shown in the interface and the journal.
    #[arg(long)]
    pub display_name: String,
    /// admin, province_officer, local_officer, post_manager, agent or inspector.
    #[arg(long)]
    pub role: String,
    /// country, province:CODE, district:CODE, commune:CODE or point:ID.
    #[arg(long)]
    pub scope: String,
    /// Read the password from standard input (one line).
    #[arg(long)]
    pub password_stdin: bool,
}

pub async fn serve(g: &Global, args: &ServeArgs) -> Outcome {
    let listen: std::net::SocketAddr = args.listen.trim().parse().map_err(|_| {
        FieldError::new(
            "listen",
            format!("'{}' is not an address such as 127.0.0.1:8080", args.listen),
        )
    })?;
    let store: Arc<dyn chitra_store::Store> = open_initialised(g).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| FieldError::new("listen", format!("cannot listen on {listen}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Failure::Other(format!("the listening address: {e}")))?;
    let config = chitra_server::Config {
        secure_cookies: args.secure_cookies,
        ..chitra_server::Config::default()
    };
    let sender: Arc<dyn chitra_server::notices::NoticeSender> = match &args.notices_to {
        Some(path) => Arc::new(chitra_server::notices::FileSender::new(path.clone())),
        None => Arc::new(chitra_server::notices::LogSender),
    };
    chitra_server::notices::start(store.clone(), sender, std::time::Duration::from_secs(5));
    let loading = load_registers(store.clone(), crate::commands::today()?);
    let state = chitra_server::AppState::new(store, config);
    // Tests and scripts wait for this line, then talk to the printed address.
    println!("chitra: listening on http://{bound} ({})", g.db);
    tracing::info!(%bound, "serving");
    let served = chitra_server::serve(listener, state, stop_asked()).await;
    loading.abort();
    served.map_err(|e| Failure::Other(format!("the server stopped: {e}")))?;
    // The store is closed as the command ends (`commands::run`).
    tracing::info!("stopped: requests in flight were answered");
    Ok(())
}

/// Reads each program's register into memory beside the first requests, as of `today`'s month: the
/// month's first payroll then starts from it instead of reading it (a few seconds for millions of
/// beneficiaries). A failure is logged; a generation reads the register itself.
fn load_registers(
    store: Arc<dyn chitra_store::Store>,
    today: chrono::NaiveDate,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let period = chitra_core::Period::of(today);
        for program in chitra_core::Program::ALL {
            let started = std::time::Instant::now();
            match store.load_register(program, period).await {
                Ok(n) => {
                    tracing::info!(program = program.code(), beneficiaries = n, elapsed = ?started.elapsed(), "register loaded")
                }
                Err(e) => {
                    tracing::warn!(program = program.code(), error = %e, "the register was not loaded")
                }
            }
        }
    })
}

/// Ctrl-C, or SIGTERM (what a service manager sends to stop the server). The server then stops
/// taking connections, answers the requests in flight, and the store is closed.
async fn stop_asked() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn password(args: &AddUser) -> Result<String, Failure> {
    let from_env = std::env::var("CHITRA_PASSWORD").ok();
    let typed = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::Other(format!("cannot read the password: {e}")))?;
        Some(s.lines().next().unwrap_or("").to_owned())
    } else {
        from_env
    };
    typed.filter(|p| !p.is_empty()).ok_or_else(|| {
        FieldError::new(
            "password",
            "give the password on standard input with --password-stdin, or in CHITRA_PASSWORD",
        )
        .into()
    })
}

pub async fn user(g: &Global, command: UserCommand) -> Outcome {
    match command {
        UserCommand::Add(args) => {
            let role = Role::parse(&args.role)?;
            let scope = Scope::parse(&args.scope)?;
            chitra_store::access::check_username(&args.username)?;
            let hash = chitra_server::auth::hash_password(&password(&args)?)?;
            let store = open_initialised(g).await?;
            let user = store
                .add_user(
                    &change(g, "tạo người dùng")?,
                    &NewUser {
                        username: args.username,
                        display_name: args.display_name,
                        password_hash: hash,
                        role,
                        scope,
                    },
                )
                .await?;
            emit(g.format, &user, || {
                fields(&[
                    ("Người dùng (user)", user.username.clone()),
                    ("Tên (name)", user.display_name.clone()),
                    (
                        "Vai trò (role)",
                        format!("{} — {}", user.role, user.role.name_vi()),
                    ),
                    ("Phạm vi (scope)", user.scope.to_string()),
                ])
            })
        }
        UserCommand::List => {
            let store = open_initialised(g).await?;
            let users = store.users().await?;
            emit(g.format, &users, || {
                let mut s = String::new();
                for u in &users {
                    s.push_str(&format!(
                        "{:<24} {:<18} {:<20} {}{}\n",
                        u.username,
                        u.role.code(),
                        u.scope.to_string(),
                        u.display_name,
                        if u.active { "" } else { " (disabled)" }
                    ));
                }
                s
            })
        }
    }
}
