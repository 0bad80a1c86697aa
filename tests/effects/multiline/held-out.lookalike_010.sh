# source: bash(1) for loops; pytest(1)
for t in tests/test_a.py tests/test_b.py; do
  pytest -q "$t"
done
