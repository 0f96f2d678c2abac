{{/*
Helpers shared by the chart's templates. Most objects exist once per job or report, so
the helpers take a dict: (dict "root" $ "name" <job or report name> "kind" "job"|"report").
Templates read values through named variables ($job, $report, $secret, ...) rather than
through ".", so that the chart's static check can follow every path into values.schema.json.
*/}}

{{/*
The name of a job's (or report's) objects: "<release>-<name>", cut to the 63 characters
of a DNS label.
*/}}
{{- define "pipec.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/*
A report's CronJob name: Kubernetes allows 52 characters there, since the Jobs it creates
append 11 characters of their own.
*/}}
{{- define "pipec.cronName" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 52 | trimSuffix "-" -}}
{{- end }}

{{/*
A job's ConfigMap: "<release>-<job>-manifest". The suffix keeps it apart from the
"<release>-reports" ConfigMap even when a job is called "reports".
*/}}
{{- define "pipec.configName" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 54 | trimSuffix "-" | printf "%s-manifest" -}}
{{- end }}

{{/*
The ConfigMap the report CronJobs mount; takes the root context.
*/}}
{{- define "pipec.reportsConfigName" -}}
{{- printf "%s-reports" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/*
The pipeline's name as a label value: other characters become "-", and the value starts
and ends with a letter or digit. Takes the root context.
*/}}
{{- define "pipec.partOf" -}}
{{- regexReplaceAll "[^A-Za-z0-9_.-]+" .Values.pipeline "-" | trunc 63 | trimAll "-_." -}}
{{- end }}

{{/*
A job's part of the manifest, as pipec wrote it into the chart. A chart copied without
its files/ directory, or installed with the values of another environment, fails here
rather than starting pods on an empty manifest.
*/}}
{{- define "pipec.jobConfig" -}}
{{- $path := printf "files/%s/jobs/%s.json" .root.Values.environment .name -}}
{{- $content := .root.Files.Get $path -}}
{{- if not $content -}}
{{- fail (printf "%s is missing from the chart: job %q has no manifest for environment %q (run `pipec compile` for that environment and install with its values file)" $path .name .root.Values.environment) -}}
{{- end -}}
{{- $content -}}
{{- end }}

{{/*
The manifest part the report CronJobs read; takes the root context.
*/}}
{{- define "pipec.reportsConfig" -}}
{{- $path := printf "files/%s/reports.json" .Values.environment -}}
{{- $content := .Files.Get $path -}}
{{- if not $content -}}
{{- fail (printf "%s is missing from the chart: the values declare reports but there is no reports manifest for environment %q (run `pipec compile` for that environment)" $path .Values.environment) -}}
{{- end -}}
{{- $content -}}
{{- end }}

{{/*
Labels that select one job's (or report's) pods. They never change across upgrades:
a Deployment's selector is immutable.
*/}}
{{- define "pipec.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
pipec.dev/{{ .kind }}: {{ .name | quote }}
{{- end }}

{{/*
Labels of every object of a job (or report).
*/}}
{{- define "pipec.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
{{ include "pipec.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service | quote }}
app.kubernetes.io/part-of: {{ include "pipec.partOf" .root | quote }}
{{- end }}
