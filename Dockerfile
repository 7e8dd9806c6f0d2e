# One image with every todo-events binary; docker-compose.yml picks the command.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry --mount=type=cache,target=/src/target \
    cargo build --release --locked -p todo-services --bins \
 && mkdir /out \
 && cp target/release/todo target/release/chat-api target/release/sync-service target/release/audit-service \
       target/release/notification-service target/release/recurring-task-service /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 todo
COPY --from=build /out/ /usr/local/bin/
USER todo
ENV TODO_BIND=0.0.0.0:8000 LOG_FORMAT=json
EXPOSE 8000
CMD ["todo", "serve"]
