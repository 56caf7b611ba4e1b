{{/* The chart's name, or nameOverride. */}}
{{- define "rotator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource names: fullnameOverride, else <release>-<name> (just <release> when it already holds the name). */}}
{{- define "rotator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "rotator.name" . -}}
{{- if contains $name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname><suffix>, the fullname shortened so that the whole stays a 63-character DNS label. */}}
{{- define "rotator.componentName" -}}
{{- $ctx := index . 0 -}}{{- $suffix := index . 1 -}}
{{- printf "%s%s" (include "rotator.fullname" $ctx | trunc (int (sub 63 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{- define "rotator.selector" -}}
app.kubernetes.io/name: {{ include "rotator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object: the selector's, the chart's, and commonLabels. */}}
{{- define "rotator.labels" -}}
{{ include "rotator.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "rotator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rotator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false (the pod runs as that account: its IAM role)" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "rotator.redisSecret" -}}
{{- default (include "rotator.componentName" (list . "-redis")) .Values.redis.existingSecret -}}
{{- end -}}

{{/* The inventory file exactly as the ConfigMap holds it. */}}
{{- define "rotator.inventoryData" -}}
{{- printf "%s\n" (toYaml .Values.inventory) -}}
{{- end -}}

{{/*
The inventory's ConfigMap: existingInventoryConfigMap, else <fullname>-inventory-<the first 10 hex
digits of the SHA-256 of inventory.yaml>. A new inventory is a new ConfigMap, so the pods of the
previous revision keep theirs (see the chart's README, "The inventory's ConfigMap").
*/}}
{{- define "rotator.inventoryConfigMap" -}}
{{- if .Values.existingInventoryConfigMap -}}
{{- .Values.existingInventoryConfigMap -}}
{{- else -}}
{{- include "rotator.componentName" (list . (printf "-inventory-%s" (include "rotator.inventoryData" . | sha256sum | trunc 10))) -}}
{{- end -}}
{{- end -}}

{{- define "rotator.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/*
The PromQL selector of this release's series: the labels Prometheus gives a target scraped through
the chart's Service (namespace and service), so that two releases never alert on each other's
credentials. metrics.prometheusRule.seriesSelector replaces it (scrapes without the ServiceMonitor).
*/}}
{{- define "rotator.seriesSelector" -}}
{{- with .Values.metrics.prometheusRule.seriesSelector -}}
{{ . }}
{{- else -}}
namespace="{{ .Release.Namespace }}", service="{{ include "rotator.fullname" . }}"
{{- end -}}
{{- end -}}

{{/*
The values an install cannot do without, refused at render with one sentence naming every one
missing (the schema allows them empty, so that `helm lint` on the defaults says what to set rather
than which JSON Schema keyword failed). Included by every template that needs them.
*/}}
{{- define "rotator.required" -}}
{{- $missing := list -}}
{{- if not .Values.image.repository -}}
{{- $missing = append $missing "image.repository (the image you built from the Dockerfile and pushed)" -}}
{{- end -}}
{{- if not (or .Values.redis.existingSecret .Values.redis.url) -}}
{{- $missing = append $missing "redis.existingSecret (a Secret holding the Redis URL) or redis.url" -}}
{{- end -}}
{{- if not (or .Values.existingInventoryConfigMap .Values.inventory.credentials) -}}
{{- $missing = append $missing "inventory.credentials (at least one credential) or existingInventoryConfigMap" -}}
{{- end -}}
{{- if and .Values.dashboard.enabled (not .Values.dashboard.existingSecret) -}}
{{- $missing = append $missing "dashboard.existingSecret (a Secret holding the dashboard's user and password) with dashboard.enabled" -}}
{{- end -}}
{{- with $missing -}}
{{- fail (printf "credential-rotator needs values: set %s. See the chart's README." (join "; set " .)) -}}
{{- end -}}
{{- end -}}

{{/*
"true" when the ServiceMonitor and PrometheusRule may be rendered: the cluster serves the Prometheus
operator's API (monitoring.coreos.com/v1; `helm template` needs --api-versions to say so), or
metrics.assumeMonitoringApi says it will. Empty otherwise, so that an install on a cluster without
the operator's CRDs skips them (NOTES say so) instead of failing.
*/}}
{{- define "rotator.monitoringApi" -}}
{{- if or .Values.metrics.assumeMonitoringApi (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") -}}true{{- end -}}
{{- end -}}
