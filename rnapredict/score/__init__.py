"""rnapredict.score"""
