# source: kubectl apply -f - ; Pod securityContext privileged, hostPID https://kubernetes.io/docs/concepts/security/pod-security-standards/
kubectl apply -f - <<'EOF2'
apiVersion: v1
kind: Pod
metadata: {name: x}
spec: {hostPID: true, containers: [{name: x, image: alpine, securityContext: {privileged: true}}]}
EOF2
