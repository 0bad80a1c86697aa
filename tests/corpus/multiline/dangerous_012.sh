# source: own (kubectl reading manifests from stdin)
kubectl delete -f - <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: prod
EOF
