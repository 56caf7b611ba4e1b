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
{{- with .Values.config.awsRegion }}
- name: AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
