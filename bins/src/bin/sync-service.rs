//! `sync-service`: one of the five todo-events services. Settings: `sync-service --help`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todo_services::commands::service_main(todo_services::role::Role::Sync).await
}
