# rerun with: gnuplot mlp.gp
set terminal pngcairo size 1400,520 enhanced font 'DejaVu Sans,10'
set output 'mlp.png'
set multiplot layout 1,2 title 'MLP: validation loss against learning rate, one line per width'
set grid lc rgb '#dddddd'
set xlabel 'log2 learning rate'
set ylabel 'validation loss'
set key top left
set yrange [0.3356045055786769:1.0986153761545816]
set title 'µP'
plot 'mlp-mup.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 128', \
     'mlp-mup.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 256', \
     'mlp-mup.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 512', \
     'mlp-mup.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 1024', \
     'mlp-mup.dat' index 4 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 2048', \
     'mlp-mup.dat' index 5 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 4096', \
     'mlp-mup-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'
set title 'SP'
plot 'mlp-sp.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 128', \
     'mlp-sp.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 256', \
     'mlp-sp.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 512', \
     'mlp-sp.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 1024', \
     'mlp-sp.dat' index 4 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 2048', \
     'mlp-sp.dat' index 5 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 4096', \
     'mlp-sp-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'
unset multiplot
