//! The OpenAPI document, derived from the handlers and the todo-core types.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::extract::Json;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "todo-events API", description = "Tasks, chat, audit, notifications, API tokens and the calendar feed of \
        todo-events. The MCP endpoint `/mcp` (Streamable HTTP) is described in docs/mcp.md."),
    paths(
        super::health::health, super::health::ready, super::health::metrics,
        super::auth::register, super::auth::login,
        super::tasks::list, super::tasks::create, super::tasks::read, super::tasks::update,
        super::tasks::complete, super::tasks::reopen, super::tasks::remove,
        super::filters::list, super::filters::create, super::filters::read, super::filters::update,
        super::filters::remove, super::filters::tasks,
        super::audit::list, super::audit::verify, super::notifications::list,
        super::chat::chat, super::chat::messages,
        super::tokens::mint, super::tokens::list, super::tokens::revoke,
        super::calendar::status, super::calendar::create, super::calendar::rotate, super::calendar::revoke,
        super::calendar::feed,
    ),
    modifiers(&BearerAuth),
    tags((name = "tasks"), (name = "filters", description = "Saved filters (docs/filters.md)"), (name = "auth"), (name = "chat"), (name = "audit"), (name = "notifications"), (name = "calendar"), (name = "operations"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT session or API token (todo_pat_...)")
                    .build(),
            ),
        );
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
