//! `chat-api`: one of the five todo-events services. Settings: `chat-api --help`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todo_services::app::service_main(todo_services::app::Role::ChatApi).await
}
