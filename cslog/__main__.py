"""python -m cslog"""
from cslog.cli import main

main()
