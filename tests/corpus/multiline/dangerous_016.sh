# source: own (function defined on several lines, then called)
teardown() {
  terraform destroy -auto-approve
}
teardown
