{{/* Labels shared by every object; the same as the kustomize base. */}}
{{- define "klustre-csi.labels" -}}
app.kubernetes.io/name: klustre-csi
app.kubernetes.io/part-of: klustre-csi
{{- end }}

{{/* Labels of the node plugin's objects and pods. */}}
{{- define "klustre-csi.nodeLabels" -}}
{{ include "klustre-csi.labels" . }}
app.kubernetes.io/component: node
{{- end }}

{{/* The DaemonSet's selector. */}}
{{- define "klustre-csi.nodeSelectorLabels" -}}
app.kubernetes.io/name: klustre-csi
app.kubernetes.io/component: node
{{- end }}

{{/* The kubelet directory without a trailing slash. */}}
{{- define "klustre-csi.kubeletDir" -}}
{{- trimSuffix "/" .Values.kubeletDir }}
{{- end }}

{{/* Host directory of the driver's socket, under the kubelet directory. */}}
{{- define "klustre-csi.pluginDir" -}}
{{ include "klustre-csi.kubeletDir" . }}/plugins/lustre.csi.klustrefs.io
{{- end }}

{{/* The driver image reference; the tag defaults to the chart's appVersion. */}}
{{- define "klustre-csi.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
