(quote ("mode" 1 #t))
