//! `notification-service`: one of the five todo-events services. Settings: `notification-service --help`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todo_services::app::service_main(todo_services::app::Role::Notification).await
}
