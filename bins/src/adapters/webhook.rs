//! The webhook sender: fired reminders POSTed over HTTP.

use std::time::Duration;

use async_trait::async_trait;
use todo_core::error::error_chain;
use todo_core::ports::WebhookSender;

/// POSTs webhooks with reqwest, 10 s timeout, never following redirects (a
/// redirect would re-POST the signed body to wherever the receiver points).
pub struct HttpWebhookSender {
    client: reqwest::Client,
}

impl Default for HttpWebhookSender {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("todo-events/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a reqwest client with static settings builds");
        Self { client }
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, url: &str, headers: &[(String, String)], body: &str) -> Result<(), String> {
        let mut req = self.client.post(url).body(body.to_owned());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        // Errors are logged and stored: they never carry the URL, which for
        // Slack-style hooks is itself the secret.
        match req.send().await {
            Ok(res) if res.status().is_success() => Ok(()),
            Ok(res) if res.status().is_redirection() => {
                Err(format!("receiver answered {} (redirects are not followed)", res.status()))
            }
            Ok(res) => Err(format!("receiver answered {}", res.status())),
            Err(e) => Err(format!("request failed: {}", error_chain(&e.without_url()))),
        }
    }
}
