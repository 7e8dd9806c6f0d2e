// Live updates: one WebSocket to the sync service (`GET /ws`), one JSON
// CloudEvent per message. Reconnects with capped, jittered exponential backoff so a
// restarted server is not stampeded by every open tab at once.

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

/**
 * States: 'connecting' (first attempt), 'live', 'reconnecting' (waiting to retry),
 * 'offline' (the browser says there is no network), 'stopped' (signed out).
 */
export class LiveConnection {
  /**
   * @param {object} o
   * @param {() => string} o.url      the WebSocket URL
   * @param {() => string|null} o.token  the current JWT (null: stop)
   * @param {(event: object) => void} o.onEvent  each CloudEvent
   * @param {(state: string, info: object) => void} o.onState
   * @param {(reconnected: boolean) => void} o.onOpen  after each successful connect
   * @param {(failures: number) => void} o.onFailures  after repeated failed attempts
   */
  constructor(o) {
    this.o = o;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.everOpened = false;
    this.stopped = true;
    this.retryAt = null;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.setState('offline');
    this.onVisible = () => {
      if (document.visibilityState === 'visible' && !this.ws && !this.stopped) this.reconnectNow();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, 'signed out');
    }
    this.attempt = 0;
    this.everOpened = false;
    this.setState('stopped');
  }

  /** Skips the wait (the user pressed the indicator, or the network came back). */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.connect();
  }

  connect() {
    const token = this.o.token();
    if (!token) return;
    if (navigator.onLine === false) {
      this.setState('offline');
      return;
    }
    this.setState(this.everOpened ? 'reconnecting' : 'connecting', { attempt: this.attempt });
    let ws;
    try {
      // The token goes in the subprotocol header (`bearer, <jwt>`), never in the
      // URL (the server refuses `?token=`): URLs end up in logs and histories.
      ws = new WebSocket(this.o.url(), ['bearer', token]);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.setState('live');
      this.o.onOpen(reconnected);
    });
    ws.addEventListener('message', (m) => {
      let event;
      try { event = JSON.parse(m.data); } catch { return; }
      if (event && typeof event.type === 'string') this.o.onEvent(event);
    });
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws) return; // a socket we already let go of
      this.ws = null;
      if (this.stopped) return;
      if (!opened) {
        this.attempt += 1;
        this.o.onFailures(this.attempt);
      }
      // 1013: the server dropped us for falling behind; messages were lost, so the
      // next open resynchronises (onOpen(true)) — and retrying at once is fine.
      this.scheduleRetry(e.code === 1013 ? 0 : null);
    });
  }

  scheduleRetry(delay = null) {
    if (this.stopped) return;
    const backoff = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(this.attempt, 10));
    const wait = delay ?? Math.round(backoff * (0.5 + Math.random() * 0.5));
    this.retryAt = Date.now() + wait;
    this.setState(navigator.onLine === false ? 'offline' : 'reconnecting', { retryAt: this.retryAt });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  setState(state, info = {}) {
    this.state = state;
    this.o.onState(state, info);
  }
}
