# rerun with: gnuplot depth.gp
set terminal pngcairo size 1300,980 enhanced font 'DejaVu Sans,10'
set output 'depth.png'
set multiplot layout 2,2 title 'Character GPT at width 64: validation loss against learning rate, one line per depth'
set grid lc rgb '#dddddd'
set xlabel 'log2 learning rate'
set ylabel 'validation loss'
set key top left
set yrange [2.7031174664497377:3.315117466449738]
set title 'plain µP (depth scaling off)'
plot 'off.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 2', \
     'off.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 4', \
     'off.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 8', \
     'off.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 16', \
     'off-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'
set title 'Depth-µP (α = 0.5)'
plot 'alpha05.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 2', \
     'alpha05.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 4', \
     'alpha05.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 8', \
     'alpha05.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 16', \
     'alpha05-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'
set title 'CompleteP (α = 1)'
plot 'alpha1.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 2', \
     'alpha1.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 4', \
     'alpha1.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 8', \
     'alpha1.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 16', \
     'alpha1-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'
set title 'CompleteP (α = 1), ε scaling'
plot 'alpha1-eps.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 2', \
     'alpha1-eps.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 4', \
     'alpha1-eps.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 8', \
     'alpha1-eps.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth 16', \
     'alpha1-eps-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'
unset multiplot
