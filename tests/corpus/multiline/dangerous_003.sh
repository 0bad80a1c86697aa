# source: own (blank lines and comment lines between commands)
echo building

# the next line is part of the build

terraform -chdir=infra destroy -auto-approve
