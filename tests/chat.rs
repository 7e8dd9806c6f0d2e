//! The chat endpoint end to end: conversations, references, isolation, limits,
//! and the LLM interpreter against a stub OpenAI-compatible server.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_services::adapters::llm::LlmInterpreter;
use todo_tests::{AppOptions, Backend, TestApp, eventually, on_every_backend, on_every_log};

on_every_log!(conversation_add_list_complete);
on_every_backend!(
    chat_never_reaches_another_users_tasks,
    chat_input_limits,
    llm_tool_calls_and_fallback,
    llm_gets_the_conversation
);

async fn say(app: &TestApp, t: &str, conversation: Option<&str>, message: &str) -> Value {
    let mut body = json!({"message": message});
    if let Some(c) = conversation {
        body["conversation_id"] = json!(c);
    }
    let a = app.post("/api/v1/chat", t, body).await;
    assert_eq!(a.status, StatusCode::OK, "{message}: {:?}", a.body);
    a.body
}

async fn conversation_add_list_complete(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    let r = say(&app, &t, None, "add buy milk tomorrow at 5pm #groceries").await;
    let conv = r["conversation_id"].as_str().unwrap().to_owned();
    assert!(r["reply"].as_str().unwrap().contains("buy milk"), "{r}");
    assert_eq!(r["actions"][0]["tool"], "add_task");
    assert_eq!(r["actions"][0]["args"]["tags"], json!(["groceries"]));
    let task = &r["actions"][0]["result"];
    assert_eq!(task["title"], "buy milk");
    assert_eq!(task["tags"], json!(["groceries"]));
    assert_eq!(task["all_day"], false);
    say(&app, &t, Some(&conv), "add call the plumber").await;

    let r = say(&app, &t, Some(&conv), "show my tasks").await;
    assert_eq!(r["actions"][0]["tool"], "list_tasks");
    let listed: Vec<&str> =
        r["actions"][0]["result"]["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(listed, ["buy milk", "call the plumber"], "dated tasks first");
    assert!(r["reply"].as_str().unwrap().contains("1. 'buy milk'"), "{}", r["reply"]);

    let r = say(&app, &t, Some(&conv), "mark task 1 as done").await;
    assert_eq!(r["actions"][0]["tool"], "complete_task");
    assert_eq!(r["actions"][0]["result"]["status"], "completed");
    assert!(r["reply"].as_str().unwrap().contains("buy milk"));

    let r = say(&app, &t, Some(&conv), "show completed tasks").await;
    let done: Vec<&str> =
        r["actions"][0]["result"]["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(done, ["buy milk"]);

    // The conversation keeps every message; the audit trail has the events.
    let msgs = app.get(&format!("/api/v1/conversations/{conv}/messages"), &t).await;
    let items = msgs.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(items[0]["role"], "user");
    assert_eq!(items[1]["role"], "assistant");
    assert_eq!(items[6]["content"], "mark task 1 as done");
    let id = task["id"].as_str().unwrap().to_owned();
    eventually(10, "the task's events audited", || async {
        let types: Vec<String> = app.get(&format!("/api/v1/audit?task_id={id}"), &t).await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap().to_owned())
            .collect();
        (types.contains(&"todo.task.created.v1".to_owned()) && types.contains(&"todo.task.completed.v1".to_owned()))
            .then_some(())
    })
    .await;
}

async fn chat_never_reaches_another_users_tasks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    let r = say(&app, &a, None, "add secret plan tomorrow").await;
    let a_conv = r["conversation_id"].as_str().unwrap().to_owned();
    let task_id = r["actions"][0]["result"]["id"].as_str().unwrap().to_owned();
    say(&app, &a, Some(&a_conv), "show my tasks").await;

    // Bob cannot use Alice's conversation (and so her listing).
    let res = app.post("/api/v1/chat", &b, json!({"message": "delete task 1", "conversation_id": a_conv})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/v1/conversations/{a_conv}/messages"), &b).await.status, StatusCode::NOT_FOUND);
    // Nor reach her task by title, number or id.
    for message in ["complete secret plan", "delete task 1", &format!("delete {task_id}"), "rename secret plan to mine"]
    {
        let r = say(&app, &b, None, message).await;
        assert_eq!(r["actions"], json!([]), "{message}: no tool ran: {r}");
    }
    let r = say(&app, &b, None, "show all my tasks").await;
    assert_eq!(r["actions"][0]["result"]["items"], json!([]));
    let mine = app.get(&format!("/api/v1/tasks/{task_id}"), &a).await;
    assert_eq!(mine.body["status"], "pending");
    assert_eq!(mine.body["version"], 1);
}

async fn chat_input_limits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    for (body, status) in [
        (json!({"message": ""}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"message": "   "}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"message": "x".repeat(2001)}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"message": "hi", "mood": "happy"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"message": 5}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"message": "hi", "conversation_id": "nope"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"message": "hi", "conversation_id": uuid::Uuid::now_v7()}), StatusCode::NOT_FOUND),
    ] {
        let a = app.post("/api/v1/chat", &t, body.clone()).await;
        assert_eq!(a.status, status, "{body}: {:?}", a.body);
        assert!(a.body["error"]["code"].is_string());
    }
    assert_eq!(app.get("/api/v1/tasks?status=all", &t).await.body["items"], json!([]));
    // Unclear and destructive-without-target messages ask instead of acting.
    for message in ["delete everything", "asdf qwerty", "what's the weather like in Paris"] {
        let r = say(&app, &t, None, message).await;
        assert_eq!(r["actions"], json!([]), "{message}");
        assert!(!r["reply"].as_str().unwrap().is_empty());
    }
    let r = say(&app, &t, None, "delete task 3").await;
    assert_eq!(r["actions"], json!([]), "no listing yet: nothing to refer to");
}

/// A stub OpenAI-compatible server: answers per `mode`.
async fn llm_stub(mode: &'static str) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(req): axum::Json<Value>| async move {
            let offered = todo_services::adapters::llm::TOOLS.len() + todo_services::adapters::llm::CONVERSATION_TOOLS.len();
            assert!(req["tools"].as_array().is_some_and(|t| t.len() == offered), "the tools are offered");
            match mode {
                // Answers from what the conversation remembers: "it" resolved to an id.
                "context" => {
                    let texts: Vec<&str> = req["messages"].as_array().unwrap().iter().filter_map(|m| m["content"].as_str()).collect();
                    let last = *texts.last().unwrap();
                    let it = texts.iter().find_map(|t| {
                        let (_, rest) = t.split_once("'it' and 'that' refer to {\"id\": \"")?;
                        Some(rest.split('"').next()?.to_owned())
                    });
                    let call = |name: &str, args: Value| {
                        json!({"choices": [{"message": {"role": "assistant", "tool_calls": [{
                            "id": "call_1", "type": "function", "function": {"name": name, "arguments": args.to_string()}
                        }]}}]})
                    };
                    let answer = match (last, it) {
                        ("undo", _) => call("undo", json!({})),
                        ("make it urgent", Some(id)) => {
                            assert!(texts.contains(&"add buy milk"), "the prior turns are sent: {texts:?}");
                            call("update_task", json!({"ref": {"id": id}, "priority": "high"}))
                        }
                        _ => call("add_task", json!({"title": "from the model"})),
                    };
                    (StatusCode::OK, axum::Json(answer))
                }
                "tool" => (
                    StatusCode::OK,
                    axum::Json(json!({"choices": [{"message": {"role": "assistant", "tool_calls": [{
                        "id": "call_1", "type": "function",
                        "function": {"name": "add_task", "arguments": "{\"title\":\"from the model\",\"priority\":\"high\"}"}
                    }]}}]})),
                ),
                "slow" => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    (StatusCode::OK, axum::Json(json!({})))
                }
                "invalid" => (
                    StatusCode::OK,
                    axum::Json(json!({"choices": [{"message": {"tool_calls": [{"function": {"name": "add_task", "arguments": "{\"title\":\"\"}"}}]}}]})),
                ),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": "down"}))),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn llm_tool_calls_and_fallback(backend: Backend) {
    for (mode, expected_title) in
        [("tool", "from the model"), ("error", "buy milk"), ("slow", "buy milk"), ("invalid", "buy milk")]
    {
        let url = llm_stub(mode).await;
        let interpreter =
            Arc::new(LlmInterpreter::new(&url, "stub".into(), Some("key".into()), Duration::from_secs(1)));
        let app = TestApp::start(
            backend,
            AppOptions { interpreter: Some(interpreter), api_only: true, ..Default::default() },
        )
        .await;
        let t = app.register("ada@example.com").await;
        let r = say(&app, &t, None, "add buy milk").await;
        assert_eq!(r["actions"][0]["tool"], "add_task", "{mode}: {r}");
        assert_eq!(r["actions"][0]["result"]["title"], expected_title, "{mode}");
        let _ = app.call(Method::GET, "/health", None, None).await;
    }
}

/// The model gets the prior turns and what "it" refers to, and its follow-ups
/// (an update of that task by id, an undo) run like the rule-based ones.
async fn llm_gets_the_conversation(backend: Backend) {
    let url = llm_stub("context").await;
    let interpreter = Arc::new(LlmInterpreter::new(&url, "stub".into(), None, Duration::from_secs(5)));
    let app =
        TestApp::start(backend, AppOptions { interpreter: Some(interpreter), api_only: true, ..Default::default() })
            .await;
    let t = app.register("ada@example.com").await;
    let r = say(&app, &t, None, "add buy milk").await;
    let conv = r["conversation_id"].as_str().unwrap().to_owned();
    let id = r["actions"][0]["result"]["id"].as_str().unwrap().to_owned();
    let r = say(&app, &t, Some(&conv), "make it urgent").await;
    assert_eq!(r["actions"][0]["tool"], "update_task", "{r}");
    assert_eq!(app.get(&format!("/api/v1/tasks/{id}"), &t).await.body["priority"], "high");
    say(&app, &t, Some(&conv), "undo").await;
    assert_eq!(app.get(&format!("/api/v1/tasks/{id}"), &t).await.body["priority"], "medium");
}
