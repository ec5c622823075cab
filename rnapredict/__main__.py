from rnapredict.cli import main

main()
