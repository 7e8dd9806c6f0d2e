//! `chat-api`: one of the five todo-events services. Settings: `chat-api --help`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todo_services::commands::service_main(todo_services::role::Role::ChatApi).await
}
