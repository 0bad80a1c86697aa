# source: nearai/ironclaw#4861 (newline is a command separator the classifier ignored) https://github.com/nearai/ironclaw/issues/4861
ls
rm -rf ~/project
