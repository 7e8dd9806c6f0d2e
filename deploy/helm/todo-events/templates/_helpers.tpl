{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "todo-events.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name: <release>-todo-events, or the release name if it already contains the chart name. */}}
{{- define "todo-events.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "todo-events.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo-events.labels" -}}
helm.sh/chart: {{ include "todo-events.chart" . }}
app.kubernetes.io/name: {{ include "todo-events.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: todo-events
{{- end }}

{{/*
The services: values key -> component name, binary. Used by every per-service
template so that the five stay alike.
*/}}
{{- define "todo-events.components" -}}
chatApi: { component: chat-api, binary: chat-api }
sync: { component: sync, binary: sync-service }
audit: { component: audit, binary: audit-service }
notification: { component: notification, binary: notification-service }
recurringTask: { component: recurring-task, binary: recurring-task-service }
{{- end }}

{{/* Labels of one service; call with (dict "root" $ "component" "chat-api"). */}}
{{- define "todo-events.componentLabels" -}}
{{ include "todo-events.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo-events.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-events.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo-events.componentName" -}}
{{- printf "%s-%s" (include "todo-events.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo-events.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "todo-events.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-events.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read: the user's, or the chart's. */}}
{{- define "todo-events.secretName" -}}
{{- default (include "todo-events.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The Dapr app id of a service. */}}
{{- define "todo-events.daprAppId" -}}
{{- include "todo-events.componentName" . }}
{{- end }}

{{/*
Environment every todo-events container gets: the ConfigMap, then the secrets.
JWT_SECRET and DATABASE_URL are required keys (a pod without them does not
start: better than a service falling back to the embedded SQLite mode).
*/}}
{{- define "todo-events.env" -}}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef: { name: {{ include "todo-events.secretName" . }}, key: JWT_SECRET }
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: { name: {{ include "todo-events.secretName" . }}, key: DATABASE_URL }
{{- range $key := list "KAFKA_PROPERTIES" "NOTIFY_WEBHOOK_SECRET" "LLM_API_KEY" }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef: { name: {{ include "todo-events.secretName" $ }}, key: {{ $key }}, optional: true }
{{- end }}
{{- end }}

{{/* The pod-level settings of one service; call with (dict "root" $ "svc" $values). */}}
{{- define "todo-events.podPlacement" -}}
{{- $root := .root }}
{{- with (default $root.Values.nodeSelector .svc.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.tolerations .svc.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.affinity .svc.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.topologySpreadConstraints .svc.topologySpreadConstraints) }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The `todo migrate` container (hook Job or init container); call with
(dict "root" $ "secret" <Secret holding DATABASE_URL>). An unset DATABASE_URL
fails at once with a message rather than migrating a SQLite file in the pod.
*/}}
{{- define "todo-events.migrateContainer" -}}
{{- $root := .root }}
- name: migrate
  image: {{ include "todo-events.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command:
    - /bin/sh
    - -c
    - |
      if [ -z "${DATABASE_URL:-}" ]; then
        echo "DATABASE_URL is not set: set database.url, or DATABASE_URL in secrets.existingSecret" >&2
        exit 1
      fi
      exec todo migrate
  env:
    - name: DATABASE_URL
      valueFrom:
        secretKeyRef: { name: {{ .secret }}, key: DATABASE_URL, optional: true }
    - name: RUST_LOG
      value: {{ $root.Values.config.rustLog | quote }}
    - name: LOG_FORMAT
      value: {{ $root.Values.config.logFormat | quote }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml $root.Values.migrations.resources | nindent 4 }}
  volumeMounts:
    - { name: tmp, mountPath: /tmp }
{{- end }}
