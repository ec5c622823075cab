"""rnapredict.model"""
