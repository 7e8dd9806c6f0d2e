//! `recurring-task-service`: one of the five todo-events services. Settings: `recurring-task-service --help`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todo_services::commands::service_main(todo_services::role::Role::RecurringTask).await
}
