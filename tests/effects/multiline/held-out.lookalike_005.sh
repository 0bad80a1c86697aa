# source: kubectl apply -f - ; Pod securityContext privileged, hostPID https://kubernetes.io/docs/concepts/security/pod-security-standards/
kubectl apply --dry-run=client -f - <<'EOF2'
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
EOF2
