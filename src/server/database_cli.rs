//! `gatehouse migrate` and `gatehouse db copy`: database chores from a shell, for operators
//! moving a site from the embedded SQLite file to PostgreSQL (or back).

use std::time::Duration;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};

use crate::server::config::{DatabaseLocation, DbAction, DbArgs, MigrateArgs, StoreSettings};
use crate::server::store::Store;

/// Applies the migrations the store lacks and says how many.
///
/// # Errors
/// The database cannot be reached or a migration fails.
pub async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let store = Store::connect(&StoreSettings::from_args(args.store)).await?;
    let applied = store.migrate().await;
    let described = store.describe().to_owned();
    store.close().await;
    match applied? {
        0 => println!("{described} is up to date; nothing to apply."),
        1 => println!("Applied 1 migration to {described}."),
        n => println!("Applied {n} migrations to {described}."),
    }
    Ok(())
}

/// Runs one `db` command.
///
/// # Errors
/// A database cannot be reached, the target is not empty (without `--overwrite`), or the copy
/// fails; each with a one-line reason.
pub async fn run(args: DbArgs) -> anyhow::Result<()> {
    let DbAction::Copy { from, to, overwrite } = args.action;
    if from == to {
        bail!("--from and --to are the same database");
    }
    if let DatabaseLocation::SqliteFile(path) = &from
        && !path.is_file()
    {
        bail!("there is no SQLite database at {} to copy from", path.display());
    }
    let source = Store::connect(&StoreSettings::for_database(from)).await?;
    let target = Store::open(&StoreSettings::for_database(to)).await?;
    let outcome = copy(&source, &target, overwrite).await;
    source.close().await;
    target.close().await;
    outcome
}

async fn copy(source: &Store, target: &Store, overwrite: bool) -> anyhow::Result<()> {
    let expected = source.row_counts().await?;
    eprintln!(
        "Copying {expected} from {} to {}.",
        source.describe(),
        target.describe()
    );
    let bar = ProgressBar::new(expected.total()).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let copied = source
        .copy_into(target, overwrite, &|written| bar.set_position(written))
        .await;
    bar.finish_and_clear();
    let copied = copied?;
    println!("Copied {copied}.");
    Ok(())
}
