{{/*
The worker's environment: the one place where values become variables (the Redis connection
included), so that a new setting is wired once.
*/}}
{{- define "rotator.env" -}}
- name: ROTATOR_CONFIG
  value: /config/inventory.yaml
- name: ROTATOR_HTTP_PORT
  value: "8080"
{{- /* The validated inventory, kept on the pod's /tmp (its only writable path): `rotator status` run
  again in the container reads an unchanged inventory with JSON.parse. */}}
- name: ROTATOR_CACHE_DIR
  value: /tmp/rotator-cache
{{- $topology := .Values.redis.topology | default "standalone" }}
{{- $redisVar := dict "standalone" "REDIS_URL" "cluster" "REDIS_CLUSTER_NODES" "sentinel" "REDIS_PASSWORD" }}
- name: {{ get $redisVar $topology }}
  valueFrom:
    secretKeyRef:
      name: {{ include "rotator.redisSecret" . }}
      key: {{ .Values.redis.existingSecretKey }}
{{- if eq $topology "sentinel" }}
{{- with .Values.redis.sentinel }}
- name: REDIS_SENTINELS
  value: {{ join "," .sentinels | quote }}
- name: REDIS_SENTINEL_NAME
  value: {{ .name | quote }}
{{- if .username }}
- name: REDIS_USERNAME
  value: {{ .username | quote }}
{{- end }}
{{- if .tls }}
- name: REDIS_TLS
  value: "on"
{{- end }}
{{- if .passwordKey }}
- name: REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "rotator.redisSecret" $ }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: ROTATOR_QUEUE_PREFIX
  value: {{ .Values.config.queuePrefix | quote }}
- name: ROTATOR_SHUTDOWN_GRACE
  value: "{{ .Values.config.shutdownGraceSeconds }}s"
- name: ROTATOR_LOCK_DURATION
  value: "{{ .Values.config.lockDurationSeconds }}s"
- name: ROTATOR_JOB_ATTEMPTS
  value: {{ .Values.config.jobAttempts | quote }}
- name: ROTATOR_JOB_BACKOFF
  value: "{{ .Values.config.jobBackoffSeconds }}s"
- name: ROTATOR_ALLOW_PLAINTEXT_REDIS
  value: {{ .Values.redis.allowPlaintext | toString | quote }}
- name: ROTATOR_CONCURRENCY
  value: {{ .Values.config.concurrency | quote }}
- name: ROTATOR_REQUEST_TIMEOUT
  value: {{ .Values.config.requestTimeout | quote }}
- name: ROTATOR_ESCALATE_AFTER
  value: {{ .Values.config.escalateAfter | quote }}
- name: ROTATOR_CREDLY_RATE_LIMIT
  value: {{ .Values.config.rateLimits.credly | quote }}
- name: ROTATOR_STATUS_PUBLIC_MESSAGES
  value: {{ .Values.config.statusPublicMessages | toString | quote }}
- name: ROTATOR_RADAR
  value: {{ ternary "on" "off" .Values.config.radar | quote }}
{{- if .Values.dashboard.enabled }}
- name: ROTATOR_DASHBOARD
  value: "on"
- name: ROTATOR_DASHBOARD_USER
  valueFrom:
    secretKeyRef:
      name: {{ .Values.dashboard.existingSecret }}
      key: {{ .Values.dashboard.userKey }}
- name: ROTATOR_DASHBOARD_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.dashboard.existingSecret }}
      key: {{ .Values.dashboard.passwordKey }}
{{- end }}
{{- with .Values.config.awsRegion }}
- name: AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
